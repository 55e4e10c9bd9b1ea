"""The quality floor read back from the aggregate: sample set of a metric, standing of a
group of runs, the report's ``learned`` cell."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipeline.report import floor


@pytest.mark.parametrize(
    ("metric", "sample_set"),
    [
        ("G/is", "G"),
        ("G/fid", "G"),
        ("latent/is", "latent"),
        ("pixel/fid", "pixel"),
        ("finetuned/kid", "finetuned"),
        ("run/test_error", "G"),
        ("run/time_overhead_ratio", "G"),
        ("train/wall_s", "G"),
        ("real/is", None),
        ("real/fid", None),
    ],
)
def test_sample_set_of_a_metric(metric, sample_set):
    assert floor.sample_set(metric) == sample_set


def runs_of(
    values: dict[str, list[float | None]], floor_is: float, dataset: str = "d"
) -> pd.DataFrame:
    """A runs table: ``<set>/is`` and ``<set>/learned`` per run as the aggregate writes them."""
    rows = []
    for set_name, xs in values.items():
        for i, x in enumerate(xs):
            value = math.nan if x is None else x
            base = {"run_id": f"e/s{i}", "experiment": "e", "dataset": dataset}
            rows += [
                {**base, "metric": f"{set_name}/is", "value": value},
                {**base, "metric": f"{set_name}/learned", "value": float(value >= floor_is)},
            ]
    return pd.DataFrame(rows)


def test_standing_and_learned_text():
    runs = runs_of({"G": [1.0, 1.02, 1.04], "latent": [7.0, 8.0, 5.0]}, 6.0)
    ids = ["e/s0", "e/s1", "e/s2"]
    g = floor.statuses(runs, {"d": 6.0}, ids, "G")
    assert len(g) == 1 and not g[0].learned and g[0].mean_is == pytest.approx(1.02)
    assert floor.learned_text(g) == "no (IS 1.02 < 6.00)"
    latent = floor.statuses(runs, {"d": 6.0}, ids, "latent")
    assert latent[0].learned and floor.learned_text(latent) == "yes 2/3"  # mean 6.67; one run below
    assert floor.learned_text(floor.statuses(runs, {"d": 6.0}, ids[:1], "latent")) == "yes 1/1"
    partly = runs_of({"G": [7.0, 2.0, 2.0]}, 6.0)
    assert (
        floor.learned_text(floor.statuses(partly, {"d": 6.0}, ids, "G"))
        == "no (IS 3.67 < 6.00, 1/3 runs)"
    )


def test_not_applicable_and_failed_runs():
    runs = runs_of({"G": [1.0, 1.0]}, 6.0)
    assert floor.statuses(runs, {}, ["e/s0", "e/s1"], "G") == []  # no floor for the dataset
    assert floor.statuses(runs, {"d": 6.0}, ["e/s0"], "pixel") == []  # no IS for that set
    assert floor.learned_text([]) == "n/a"
    failed = runs_of({"G": [None, None]}, 6.0)
    standing = floor.statuses(failed, {"d": 6.0}, ["e/s0", "e/s1"], "G")
    assert not standing[0].learned and floor.learned_text(standing) == "no (no finite IS < 6.00)"


def test_floors_from_runs_or_summary_rows():
    runs = pd.DataFrame(
        [
            {"dataset": "d", "metric": "real/is_floor", "value": 5.98},
            {"dataset": "d", "metric": "real/is", "value": 9.2},
            {"dataset": "t", "metric": "real/is_floor", "value": math.nan},
        ]
    )
    assert floor.floors(runs) == {"d": 5.98}
    assert floor.floors(runs.rename(columns={"value": "mean"}), "mean") == {"d": 5.98}


def test_a_group_over_two_datasets_is_judged_per_dataset():
    runs = pd.concat(
        [
            runs_of({"G": [8.0, 8.0]}, 6.0, "d"),
            runs_of({"G": [1.0, 1.0]}, 4.0, "t").assign(run_id=lambda f: f["run_id"] + "t"),
        ]
    )
    standing = floor.statuses(runs, {"d": 6.0, "t": 4.0}, set(runs["run_id"]), "G")
    assert [(s.dataset, s.learned) for s in standing] == [("d", True), ("t", False)]
    assert floor.learned_text(standing) == "d: yes 2/2; t: no (IS 1.00 < 4.00)"
