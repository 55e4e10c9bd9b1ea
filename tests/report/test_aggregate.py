"""Aggregate: tidy table of a fixture tree, seed statistics, missing scores, diverged runs."""

from __future__ import annotations

import json
import math

import pytest
from report_support import build_tree

from pipeline.config import make_plan
from pipeline.errors import PipelineError
from pipeline.report import aggregate


@pytest.fixture
def params(tiny_params):
    tiny_params["experiments"]["gan_mnist"]["seeds"] = [3, 4, 5]
    return tiny_params


def test_runs_table_has_every_planned_run_and_the_ceilings(tmp_path, params):
    build_tree(tmp_path, params, diverged=("gan_mnist/s5",))
    plan = make_plan(params)
    runs, timings = aggregate.runs_table(plan, tmp_path / "scores", tmp_path / "refs")
    assert list(runs.columns) == list(timings.columns) == aggregate.RUN_COLUMNS
    planned = {r.id for r in plan.runs()}
    assert set(runs[runs["variant"] != "real data"]["run_id"]) == planned
    is_rows = runs[(runs["metric"] == "G/is") & (runs["experiment"] == "gan_mnist")]
    assert sorted(is_rows["value"].dropna()) == [8.0, 9.0]
    diverged = runs[runs["run_id"] == "gan_mnist/s5"]
    assert set(diverged["status"]) == {"diverged"}
    assert diverged[diverged["metric"] == "run/failed"]["value"].item() == 1.0
    assert diverged[diverged["metric"] == "G/is"]["value"].isna().all()
    ceiling = runs[(runs["variant"] == "real data") & (runs["dataset"] == "mnist_subset")]
    assert dict(zip(ceiling["metric"], ceiling["value"]))["real/is"] == 9.5
    assert "real/classifier_accuracy" in set(ceiling["metric"])
    assert set(runs[runs["run_id"] == "gan_ring8/s0"]["dataset_kind"]) == {"ring8"}
    assert not runs["metric"].str.startswith(("train/", "score/")).any()  # machine-independent
    s_per_step = timings[(timings["run_id"] == "gan_ring8/s1") & (timings["metric"] == "train/s_per_step")]
    assert s_per_step["value"].item() == pytest.approx(11.0 / 30)
    score_s = timings[(timings["run_id"] == "gan_ring8/s1") & (timings["metric"] == "score/wall_s")]
    assert score_s["value"].item() == 2.0  # the file's 4 s shared by its two runs


def test_summary_statistics_and_deterministic_ci(tmp_path, params):
    build_tree(tmp_path, params, diverged=("gan_mnist/s5",))
    _, summary1 = aggregate.write_aggregate(make_plan(params), tmp_path / "scores", tmp_path / "refs",
                                                tmp_path / "a", 300, 0.9)
    aggregate.write_aggregate(make_plan(params), tmp_path / "scores", tmp_path / "refs", tmp_path / "b", 300, 0.9)
    assert (tmp_path / "a" / "summary.csv").read_text() == (tmp_path / "b" / "summary.csv").read_text()
    row = summary1[(summary1["experiment"] == "gan_mnist") & (summary1["metric"] == "G/fid")].iloc[0]
    assert (row["n_runs"], row["n_failed"], row["n"]) == (3, 1, 2)
    assert row["mean"] == 26.5 and row["std"] == pytest.approx(math.sqrt(0.5))
    assert 26.0 <= row["ci_low"] <= 26.5 <= row["ci_high"] <= 27.0
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["gan_mnist/G/fid"] == 26.5 and metrics["runs"] == 5 and metrics["runs_failed"] == 1
    assert metrics["real/ring8/hq_fraction"] == 0.989
    assert not any(k.split("/", 1)[1].startswith(("train/", "score/")) for k in metrics if "/" in k)


def test_read_back_round_trip(tmp_path, params):
    build_tree(tmp_path, params)
    runs, summary = aggregate.write_aggregate(make_plan(params), tmp_path / "scores", tmp_path / "refs",
                                              tmp_path / "agg", 200, 0.95)
    runs2, summary2 = aggregate.read_aggregate(tmp_path / "agg")
    timings = (tmp_path / "agg" / "timings.csv").read_text().count("\n") - 1
    assert len(runs2) == len(runs) + timings and len(summary2) == len(summary)
    assert "train/wall_s" in set(runs2["metric"]) and "train/wall_s" in set(summary2["metric"])
    assert set(runs2["seed"]) == {"0", "1", "3", "4", "5", ""} and runs2["value"].dtype == float
    assert json.loads(runs2["grid_point"].iloc[0]) == {}


def test_missing_score_file_names_the_job_and_the_fix(tmp_path, params):
    build_tree(tmp_path, params, skip_jobs=("gan_mnist.0",))
    with pytest.raises(aggregate.MissingScoresError) as err:
        aggregate.runs_table(make_plan(params), tmp_path / "scores", tmp_path / "refs")
    text = str(err.value)
    assert "gan_mnist.0" in text and "python -m pipeline score gan_mnist.0" in text
    assert "python -m pipeline plan --write" in text


def test_score_file_missing_a_planned_run(tmp_path, params):
    build_tree(tmp_path, params)
    params["experiments"]["gan_ring8"]["seeds"] = [0, 1, 7]  # a run the score file never saw
    params["experiments"]["gan_ring8"]["shard_size"] = 3
    with pytest.raises(aggregate.MissingScoresError, match="gan_ring8/s7"):
        aggregate.runs_table(make_plan(params), tmp_path / "scores", tmp_path / "refs")


def test_reference_metrics_are_flattened_tolerantly():
    doc = {"dataset": "d", "kind": "mnist", "classifier_accuracy": 0.99, "extractor": "x", "wall_s": 3.0,
           "real": {"is": 9.0, "parzen": {"ll": 1.0, "se": 0.1}, "note": "text"}}
    assert aggregate.reference_metrics(doc) == {"real/is": 9.0, "real/parzen/ll": 1.0, "real/parzen/se": 0.1,
                                                "real/classifier_accuracy": 0.99}
    assert aggregate.reference_metrics({}) == {}


def test_runs_csv_does_not_depend_on_timings(tmp_path, params):
    build_tree(tmp_path, params)
    plan = make_plan(params)
    aggregate.write_aggregate(plan, tmp_path / "scores", tmp_path / "refs", tmp_path / "a", 100, 0.9)
    path = tmp_path / "scores" / "gan_ring8" / "shard0.json"
    doc = json.loads(path.read_text())
    doc["wall_s"] = 99.0
    for entry in doc["runs"]:
        entry["train"]["wall_s"] *= 3
    path.write_text(json.dumps(doc))
    aggregate.write_aggregate(plan, tmp_path / "scores", tmp_path / "refs", tmp_path / "b", 100, 0.9)
    assert (tmp_path / "a" / "runs.csv").read_text() == (tmp_path / "b" / "runs.csv").read_text()
    assert (tmp_path / "a" / "timings.csv").read_text() != (tmp_path / "b" / "timings.csv").read_text()


def test_model_timings_go_to_timings_csv(tmp_path, params):
    build_tree(tmp_path, params)
    path = tmp_path / "scores" / "gan_ring8" / "shard0.json"
    doc = json.loads(path.read_text())
    doc["runs"][0]["metrics"]["run/time_overhead_ratio"] = 1.25
    path.write_text(json.dumps(doc))
    runs, timings = aggregate.runs_table(make_plan(params), tmp_path / "scores", tmp_path / "refs")
    assert "run/time_overhead_ratio" not in set(runs["metric"])
    row = timings[timings["metric"] == "run/time_overhead_ratio"]
    assert row["value"].tolist() == [1.25] and row["run_id"].tolist() == [doc["runs"][0]["run_id"]]


def test_quality_floor_and_learned_rows(tmp_path, params):
    build_tree(tmp_path, params, diverged=("gan_mnist/s5",))
    runs, _ = aggregate.write_aggregate(make_plan(params), tmp_path / "scores", tmp_path / "refs",
                                        tmp_path / "agg", 100, 0.9)
    floor = runs[runs["metric"] == "real/is_floor"]
    assert dict(zip(floor["dataset"], floor["value"])) == {"mnist_subset": pytest.approx(0.65 * 9.5)}
    learned = runs[runs["metric"] == "G/learned"]
    assert dict(zip(learned["run_id"], learned["value"])) == {  # IS 8, 9 >= 6.175; the diverged run has none
        "gan_mnist/s3": 1.0, "gan_mnist/s4": 1.0, "gan_mnist/s5": 0.0}
    assert not runs[runs["dataset"] == "ring8"]["metric"].str.endswith("/learned").any()  # no IS: n/a
    metrics = json.loads((tmp_path / "agg" / "metrics.json").read_text())
    assert metrics["gan_mnist/G/learned"] == pytest.approx(2 / 3)
    assert metrics["real/mnist_subset/is_floor"] == pytest.approx(6.175)


def test_quality_floor_overrides_per_dataset(tmp_path, params):
    params["scoring"]["quality_floor_overrides"] = {"mnist_subset": 0.9}  # floor 8.55: seed 3 (IS 8) is below
    build_tree(tmp_path, params)
    runs, _ = aggregate.runs_table(make_plan(params), tmp_path / "scores", tmp_path / "refs")
    assert runs[runs["metric"] == "real/is_floor"]["value"].item() == pytest.approx(0.9 * 9.5)
    learned = runs[runs["metric"] == "G/learned"]
    assert dict(zip(learned["run_id"], learned["value"])) == {
        "gan_mnist/s3": 0.0, "gan_mnist/s4": 1.0, "gan_mnist/s5": 1.0}


def test_learned_metrics_of_every_sample_set():
    metrics = {"G/is": 1.2, "pixel/is": 7.0, "latent/is": math.nan, "G/is_mod": 9.0, "G/fid": 3.0}
    assert aggregate.learned_metrics(metrics, 6.0) == {"G/learned": 0.0, "pixel/learned": 1.0,
                                                       "latent/learned": 0.0}
    assert aggregate.learned_metrics(metrics, None) == {}


def test_a_runs_csv_without_the_quality_floor_is_refused(tmp_path, params):
    build_tree(tmp_path, params)
    aggregate.write_aggregate(make_plan(params), tmp_path / "scores", tmp_path / "refs", tmp_path / "agg", 100, 0.9)
    path = tmp_path / "agg" / "runs.csv"
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                            if "real/is_floor" not in line))  # as written before the floor existed
    with pytest.raises(PipelineError, match="no quality floor .* for mnist_subset.*python -m pipeline aggregate"):
        aggregate.read_aggregate(tmp_path / "agg")
