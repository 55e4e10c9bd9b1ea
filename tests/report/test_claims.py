"""Claim schema validation and every verdict rule on constructed aggregate rows."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest
import yaml

from pipeline.report import claims as C

SETTINGS = C.Settings(profile="smoke", bootstrap_samples=400, ci_level=0.95)


def rows(experiment: str, metric: str, values: list[float | None], variant: str = "default",
         kind: str = "mnist_offline", grid: dict | None = None, status: str = "ok") -> list[dict]:
    return [{"run_id": f"{experiment}/s{i}", "paper": "p", "experiment": experiment, "model": "m",
             "variant": variant, "dataset": "d", "dataset_kind": kind, "seed": str(i), "config": "",
             "grid_point": json.dumps(grid or {}), "status": status, "metric": metric, "value": v}
            for i, v in enumerate(values)]


def table(*parts: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([r for p in parts for r in p])


def claim(**over) -> C.Claim:
    raw = {"id": "c1", "source": "Table 1", "statement": "A beats B", "test": "greater", "metric": "G/is",
           "groups": [{"label": "A", "select": {"experiment": "a"}}, {"label": "B", "select": {"experiment": "b"}}]}
    raw.update(over)
    return C.parse_claim(raw, "p", "p.yaml")


HIGH, LOW, MIXED = [10.0, 10.5, 11.0], [5.0, 5.5, 6.0], [4.0, 8.0, 12.0]


@pytest.mark.parametrize(("a", "b", "test", "verdict"), [
    (HIGH, LOW, "greater", "holds"),
    (LOW, HIGH, "greater", "fails"),
    (MIXED, [7.5, 8.0, 8.5], "greater", "inconclusive"),
    (LOW, HIGH, "less", "holds"),
    (HIGH, LOW, "less", "fails"),
])
def test_two_group_verdicts(a, b, test, verdict):
    runs = table(rows("a", "G/is", a), rows("b", "G/is", b))
    result = C.evaluate_claim(claim(test=test), runs, SETTINGS)
    assert result.verdict == verdict, result.reason
    assert result.profile == "smoke"
    assert result.groups[0].n == 3 and result.groups[0].mean == pytest.approx(sum(a) / 3)


def test_absent_experiment_is_not_run_never_holds():
    runs = table(rows("a", "G/is", HIGH))  # b never ran
    result = C.evaluate_claim(claim(), runs, SETTINGS)
    assert result.verdict == "not run" and "B" in result.reason


def test_wrong_metric_rows_do_not_count_as_data():
    runs = table(rows("a", "G/fid", HIGH), rows("b", "G/fid", LOW))
    result = C.evaluate_claim(claim(), runs, SETTINGS)
    assert result.verdict == "inconclusive" and "fewer than" in result.reason


def test_profile_restricted_claim_is_not_run_elsewhere():
    c = claim(test="within", groups=[{"label": "A", "select": {"experiment": "a"}, "published": 10.5}],
              tolerance=1.0, profiles=["paper"])
    runs = table(rows("a", "G/is", HIGH))
    assert C.evaluate_claim(c, runs, SETTINGS).verdict == "not run"
    paper = C.Settings("paper", 400, 0.95)
    assert C.evaluate_claim(c, runs, paper).verdict == "holds"


@pytest.mark.parametrize(("published", "tolerance", "verdict"), [
    (10.5, 1.0, "holds"), (20.0, 1.0, "fails"), (11.2, 0.5, "inconclusive")])
def test_within(published, tolerance, verdict):
    c = claim(test="within", groups=[{"label": "A", "select": {"experiment": "a"}, "published": published}],
              tolerance=tolerance, profiles=["smoke"])
    assert C.evaluate_claim(c, table(rows("a", "G/is", HIGH)), SETTINGS).verdict == verdict


def test_within_uses_unit_scale_and_rel_tolerance():
    c = claim(test="within", metric="run/test_error", unit_scale=100, rel_tolerance=0.1, profiles=["smoke"],
              groups=[{"label": "A", "select": {"experiment": "a"}, "published": 1.0}])
    runs = table(rows("a", "run/test_error", [0.0099, 0.0100, 0.0101]))
    result = C.evaluate_claim(c, runs, SETTINGS)
    assert result.verdict == "holds" and result.groups[0].mean == pytest.approx(1.0)


def test_order_holds_fails_and_constants():
    groups = [{"label": x, "select": {"experiment": x}} for x in ("a", "b", "c")]
    runs = table(rows("a", "G/is", HIGH), rows("b", "G/is", LOW), rows("c", "G/is", [1.0, 1.5, 2.0]))
    assert C.evaluate_claim(claim(test="order", groups=groups), runs, SETTINGS).verdict == "holds"
    swapped = [groups[0], groups[2], groups[1]]
    assert C.evaluate_claim(claim(test="order", groups=swapped), runs, SETTINGS).verdict == "fails"
    with_constants = [groups[0], {"label": "baseline", "value": 7.0}, {"label": "older", "value": 3.0}]
    c = claim(test="order", groups=with_constants, profiles=["smoke"])
    result = C.evaluate_claim(c, runs, SETTINGS)
    assert result.verdict == "holds" and len(result.comparisons) == 2
    c_low = claim(test="order", groups=[{"label": "baseline", "value": 12.0}, groups[0]], profiles=["smoke"])
    assert C.evaluate_claim(c_low, runs, SETTINGS).verdict == "holds"


def test_not_less_with_equal_values_holds_and_with_a_loss_fails():
    c = claim(test="not_less", metric="pixel/modes", paired=True,
              groups=[{"label": "refined", "select": {"experiment": "a"}},
                      {"label": "G", "select": {"experiment": "a"}, "metric": "G/modes"}])
    same = table(rows("a", "pixel/modes", [8.0, 8.0, 8.0]), rows("a", "G/modes", [8.0, 8.0, 8.0]))
    assert C.evaluate_claim(c, same, SETTINGS).verdict == "holds"
    lost = table(rows("a", "pixel/modes", [5.0, 6.0, 5.0]), rows("a", "G/modes", [8.0, 8.0, 8.0]))
    assert C.evaluate_claim(c, lost, SETTINGS).verdict == "fails"


def test_closer_to_target_number_and_group():
    c = claim(test="closer_to", metric="run/ratio", target=1.0)
    runs = table(rows("a", "run/ratio", [0.95, 1.0, 1.05]), rows("b", "run/ratio", [2.0, 2.2, 1.8]))
    assert C.evaluate_claim(c, runs, SETTINGS).verdict == "holds"
    c2 = claim(test="closer_to", metric="run/ratio",
               target={"label": "ceiling", "select": {"variant": "real data"}, "metric": "real/ratio"})
    ceiling = rows("ref", "real/ratio", [2.0], variant="real data")
    assert C.evaluate_claim(c2, table(runs.to_dict("records"), ceiling), SETTINGS).verdict == "fails"
    assert C.evaluate_claim(c2, runs, SETTINGS).verdict == "not run"


def test_qualitative_never_holds():
    c = claim(test="qualitative", metric=None, groups=[{"label": "A", "select": {"experiment": "a"}}])
    assert c.metric is None
    assert C.evaluate_claim(c, table(rows("a", "G/is", HIGH)), SETTINGS).verdict == "inconclusive"
    assert C.evaluate_claim(c, table(rows("b", "G/is", HIGH)), SETTINGS).verdict == "not run"


def test_selectors_lists_kinds_and_grid_points():
    runs = table(rows("a", "G/is", HIGH, grid={"hparams.margin": 32}, kind="fashion_mnist"),
                 rows("x", "G/is", LOW, grid={"hparams.margin": 8}, kind="fashion_mnist"))
    sel = C.select_rows(runs, {"dataset_kind": ["fashion_mnist", "cifar10"], "grid": {"hparams.margin": 32.0}},
                        "G/is")
    assert set(sel["experiment"]) == {"a"}
    assert C.select_rows(runs, {"nonexistent_column": 1}, "G/is").empty
    assert C.select_rows(runs, {"grid": {"hparams.margin": [1, 2]}}, "G/is").empty


def test_diverged_runs_are_counted_not_averaged():
    a = rows("a", "G/is", HIGH) + [{**rows("a", "G/is", [None])[0], "run_id": "a/s9", "status": "diverged"}]
    result = C.evaluate_claim(claim(), table(a, rows("b", "G/is", LOW)), SETTINGS)
    assert result.groups[0].n == 3 and result.groups[0].n_failed == 1 and result.verdict == "holds"


# --------------------------------------------------------------------------- schema errors

BASE = {"id": "x1", "source": "Table 1", "statement": "s", "test": "greater", "metric": "G/is",
        "groups": [{"label": "A", "select": {"experiment": "a"}}, {"label": "B", "select": {"experiment": "b"}}]}


@pytest.mark.parametrize(("change", "message"), [
    ({"tset": "greater"}, "unknown key(s) tset"),
    ({"test": "bigger"}, "test = 'bigger': unknown"),
    ({"metric": None}, "missing required key metric"),
    ({"groups": [{"label": "A", "select": {"experiment": "a"}}]}, "needs exactly 2 group(s)"),
    ({"groups": [{"label": "A", "select": {"experiment": "a"}, "value": 3},
                 {"label": "B", "select": {"experiment": "b"}}]}, "exactly one of select"),
    ({"groups": [{"label": "A", "select": {"experiment": "a"}}, {"label": "B", "value": 3}]}, "must list profiles"),
    ({"groups": [{"label": "A", "select": {"colour": "a"}}, {"label": "B", "select": {"experiment": "b"}}]},
     "unknown key(s) colour"),
    ({"test": "within", "groups": [{"label": "A", "select": {"experiment": "a"}}], "profiles": ["paper"],
      "tolerance": 1}, "needs a select group with published"),
    ({"test": "closer_to"}, "needs target"),
    ({"factor": -1}, "must be > 0"),
    ({"id": "Bad Id"}, "claim id = 'Bad Id'"),
])
def test_schema_errors_name_the_claim_and_key(change, message):
    raw = copy.deepcopy(BASE)
    raw.update(change)
    if change.get("metric", "") is None:
        del raw["metric"]
    with pytest.raises(C.ClaimError) as err:
        C.parse_claim(raw, "p", "p.yaml")
    assert message in str(err.value)
    assert "p.yaml" in str(err.value)


def test_file_level_errors(tmp_path):
    (tmp_path / "gan.yaml").write_text(yaml.safe_dump({"paper": "ebgan", "title": "t", "claims": []}))
    with pytest.raises(C.ClaimError, match="must equal the file name"):
        C.load_claims(tmp_path)
    (tmp_path / "gan.yaml").write_text(yaml.safe_dump({"paper": "gan", "title": "t", "claims": [BASE]}))
    (tmp_path / "dcd.yaml").write_text(yaml.safe_dump({"paper": "dcd", "title": "t", "claims": [BASE]}))
    with pytest.raises(C.ClaimError, match="'x1' is also defined"):
        C.load_claims(tmp_path)


def test_the_five_papers_claim_files_load():
    files = C.load_claims()
    assert list(files) == list(C.PAPERS)
    for cf in files.values():
        assert cf.claims, cf.paper
    published = [g.published for cf in files.values() for c in cf.claims for g in c.groups]
    assert 225 in published and 8.04 in published and 16.24 in published and 1.04 in published


# --------------------------------------------------------------------------- the quality floor

NOISE_A, NOISE_B = [1.30, 1.35, 1.40], [1.00, 1.01, 1.02]  # IS of generators that emit noise
REAL_IS, FRACTION = 9.2, 0.65
FLOOR = FRACTION * REAL_IS  # 5.98


def floor_rows(real_is: float = REAL_IS, fraction: float = FRACTION, dataset: str = "d") -> list[dict]:
    """The real-data rows the aggregate writes for a dataset: its IS and its quality floor."""
    base = {"run_id": f"reference/{dataset}", "paper": "", "experiment": "", "model": "",
            "variant": "real data", "dataset": dataset, "dataset_kind": "mnist_offline", "seed": "",
            "config": "", "grid_point": "{}", "status": "ok"}
    return [{**base, "metric": "real/is", "value": real_is},
            {**base, "metric": "real/is_floor", "value": fraction * real_is}]


def test_noise_level_comparison_is_never_holds():
    runs = table(rows("a", "G/is", NOISE_A), rows("b", "G/is", NOISE_B))
    without_floor = C.evaluate_claim(claim(), runs, SETTINGS)
    assert without_floor.verdict == "holds"  # the CI alone separates the two noise levels
    result = C.evaluate_claim(claim(), table(runs.to_dict("records"), floor_rows()), SETTINGS)
    assert result.verdict == "inconclusive" and result.verdict != "holds"
    assert [label for label, _ in result.below_floor] == ["A", "B"]
    assert result.reason == "below the quality floor (IS 1.35 < 5.98 for A; IS 1.01 < 5.98 for B)"
    assert result.verdict_text == "inconclusive — below the quality floor"
    assert not result.comparisons  # no comparison is made below the floor


@pytest.mark.parametrize("test", ["greater", "less", "not_less"])
def test_no_comparative_test_judges_noise(test):
    runs = table(rows("a", "G/is", NOISE_A), rows("b", "G/is", NOISE_B), floor_rows())
    assert C.evaluate_claim(claim(test=test), runs, SETTINGS).below_floor


def test_learned_runs_are_still_judged():
    runs = table(rows("a", "G/is", HIGH), rows("b", "G/is", [7.0, 7.5, 8.0]), floor_rows())
    result = C.evaluate_claim(claim(), runs, SETTINGS)
    assert result.verdict == "holds" and not result.below_floor
    assert result.verdict_text == "holds"


def test_one_group_below_the_floor_is_enough_and_is_named():
    runs = table(rows("a", "G/is", HIGH), rows("b", "G/is", LOW), floor_rows())  # LOW: mean 5.5
    result = C.evaluate_claim(claim(), runs, SETTINGS)
    assert result.verdict == "inconclusive"
    assert result.reason == "below the quality floor (IS 5.50 < 5.98 for B)"
    lower = C.evaluate_claim(claim(), table(runs.to_dict("records")[:6], floor_rows(fraction=0.5)), SETTINGS)
    assert lower.verdict == "holds"  # a lower floor fraction (an override) lets B through


def test_floor_applies_to_within_order_and_paired_sets():
    within = claim(test="within", groups=[{"label": "A", "select": {"experiment": "a"}, "published": 1.35}],
                   tolerance=1.0, profiles=["smoke"])
    noise = table(rows("a", "G/is", NOISE_A), floor_rows())
    assert C.evaluate_claim(within, noise, SETTINGS).below_floor
    groups = [{"label": x, "select": {"experiment": x}} for x in ("a", "b", "c")]
    runs = table(rows("a", "G/is", HIGH), rows("b", "G/is", [7.0, 7.5, 8.0]), rows("c", "G/is", NOISE_B),
                 floor_rows())
    result = C.evaluate_claim(claim(test="order", groups=groups), runs, SETTINGS)
    assert [label for label, _ in result.below_floor] == ["c"]
    # two sample sets of the same runs: each group is judged on its own set
    paired = claim(metric="pixel/is", paired=True,
                   groups=[{"label": "pixel", "select": {"experiment": "a"}},
                           {"label": "base G", "select": {"experiment": "a"}, "metric": "G/is"}])
    sets = table(rows("a", "pixel/is", [7.0, 7.2, 7.4]), rows("a", "G/is", [3.0, 3.1, 3.2]), floor_rows())
    result = C.evaluate_claim(paired, sets, SETTINGS)
    assert result.verdict == "inconclusive" and result.reason == "below the quality floor (IS 3.10 < 5.98 for base G)"
    learned = table(rows("a", "pixel/is", [7.0, 7.2, 7.4]), rows("a", "G/is", [6.0, 6.1, 6.2]), floor_rows())
    assert C.evaluate_claim(paired, learned, SETTINGS).verdict == "holds"


def test_run_metrics_are_judged_on_the_main_set_g():
    c = claim(test="less", metric="run/balance_gap")
    gaps = rows("a", "run/balance_gap", [0.1, 0.11, 0.12]) + rows("b", "run/balance_gap", [0.3, 0.31, 0.32])
    noise = table(gaps, rows("a", "G/is", NOISE_A), rows("b", "G/is", NOISE_B), floor_rows())
    assert C.evaluate_claim(c, noise, SETTINGS).verdict == "inconclusive"
    learned = table(gaps, rows("a", "G/is", HIGH), rows("b", "G/is", HIGH), floor_rows())
    assert C.evaluate_claim(c, learned, SETTINGS).verdict == "holds"


def test_a_grid_group_learns_by_the_share_of_its_runs_above_the_floor():
    """A grid is a distribution over configurations whose failures are the point: it has
    learned when ``floor_share`` of its runs clear the floor, whatever their mean."""
    grid = [6.5, 1.0, 1.0, 1.0]  # 1/4 learned, mean 2.4
    runs = table(rows("a", "G/is", grid), rows("b", "G/is", [1.0, 1.01, 1.02, 1.0]), floor_rows())
    by_mean = claim()
    assert [label for label, _ in C.evaluate_claim(by_mean, runs, SETTINGS).below_floor] == ["A", "B"]
    by_share = claim(groups=[{"label": "A", "select": {"experiment": "a"}, "floor_share": 0.25},
                             {"label": "B", "select": {"experiment": "b"}, "floor_share": 0.25}])
    result = C.evaluate_claim(by_share, runs, SETTINGS)
    assert [label for label, _ in result.below_floor] == ["B"]
    assert "0/4 runs at IS >= 5.98 < 25%" in result.reason
    with pytest.raises(C.ClaimError, match="floor_share"):
        claim(groups=[{"label": "A", "select": {"experiment": "a"}, "floor_share": 1.5},
                      {"label": "B", "select": {"experiment": "b"}}])


def test_claims_not_about_samples_opt_out_of_the_floor():
    """A timing ratio or a classifier's error is judged whatever the generators draw."""
    gaps = rows("a", "run/test_error", [0.1, 0.11, 0.12]) + rows("b", "run/test_error", [0.3, 0.31, 0.32])
    noise = table(gaps, rows("a", "G/is", NOISE_A), rows("b", "G/is", NOISE_B), floor_rows())
    assert C.evaluate_claim(claim(test="less", metric="run/test_error"), noise, SETTINGS).below_floor
    opted_out = C.evaluate_claim(claim(test="less", metric="run/test_error", quality_floor=False), noise, SETTINGS)
    assert opted_out.verdict == "holds" and not opted_out.below_floor
    with pytest.raises(C.ClaimError, match="quality_floor"):
        claim(quality_floor="no")


def test_exempt_groups_constants_real_data_and_not_applicable():
    # a published constant is never below the floor; the run group decides
    with_constant = claim(test="order", profiles=["smoke"],
                          groups=[{"label": "ours", "select": {"experiment": "a"}}, {"label": "baseline", "value": 1.0}])
    assert C.evaluate_claim(with_constant, table(rows("a", "G/is", HIGH), floor_rows()), SETTINGS).verdict == "holds"
    result = C.evaluate_claim(with_constant, table(rows("a", "G/is", NOISE_A), floor_rows()), SETTINGS)
    assert [label for label, _ in result.below_floor] == ["ours"]
    # the real-data ceiling as a target is exempt (its IS is the reference, not a generator's)
    to_real = claim(test="closer_to", target={"label": "real", "select": {"variant": "real data"},
                                              "metric": "real/is"})
    runs = table(rows("a", "G/is", [8.5, 8.6, 8.7]), rows("b", "G/is", [6.5, 6.6, 6.7]), floor_rows())
    assert C.evaluate_claim(to_real, runs, SETTINGS).verdict == "holds"
    # runs without an IS (2D toys) are not applicable, not below, even beside a dataset with a floor
    toy = claim(metric="G/hq_fraction")
    toys = table(rows("a", "G/hq_fraction", [0.9, 0.91, 0.92], kind="ring8"),
                 rows("b", "G/hq_fraction", [0.5, 0.51, 0.52], kind="ring8"), floor_rows(dataset="mnist"))
    assert C.evaluate_claim(toy, toys, SETTINGS).verdict == "holds"
    # a dataset without a floor (no real-data IS): not applicable
    assert C.evaluate_claim(claim(), table(rows("a", "G/is", NOISE_A), rows("b", "G/is", NOISE_B)),
                            SETTINGS).verdict == "holds"


def test_a_group_whose_runs_all_failed_has_not_learned():
    c = claim(test="less", metric="run/failed")
    failed = [{**r, "status": "diverged"} for r in rows("b", "G/is", [None, None, None])]
    runs = table(rows("a", "run/failed", [0.0, 0.0, 0.0]), rows("b", "run/failed", [1.0, 1.0, 1.0]),
                 rows("a", "G/is", HIGH), failed, floor_rows())
    result = C.evaluate_claim(c, runs, SETTINGS)
    assert result.verdict == "inconclusive" and "no finite IS < 5.98 for B" in result.reason


def test_verdict_summary_counts_the_floor_apart():
    noise = table(rows("a", "G/is", NOISE_A), rows("b", "G/is", NOISE_B), floor_rows())
    learned = table(rows("a", "G/is", HIGH), rows("b", "G/is", [7.0, 7.5, 8.0]), floor_rows())
    results = [C.evaluate_claim(claim(), noise, SETTINGS), C.evaluate_claim(claim(), learned, SETTINGS),
               C.evaluate_claim(claim(), table(rows("a", "G/fid", HIGH), rows("b", "G/fid", LOW)), SETTINGS)]
    assert C.verdict_summary(results) == "1 holds, 0 fails, 2 inconclusive (1 below the quality floor), 0 not run"
    assert C.verdict_summary(results[1:]) == "1 holds, 0 fails, 1 inconclusive, 0 not run"
