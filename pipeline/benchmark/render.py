"""reports/bench.md from reports/bench.json: the machine, the targets with computed
met / not met, and one table per measurement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TARGETS = (
    ("end_to_end_s", "default-profile `dvc repro` from an empty cache", "<=", 1800.0, "s"),
    ("min_speedup", "ours / reference training images/s, every model", ">=", 1.5, "x"),
    ("is5_speedup", "public recipe / gan_mnist training seconds to IS 5", ">=", 1.0, "x"),
    ("is7_speedup", "public recipe / gan_mnist training seconds to IS 7", ">=", 1.0, "x"),
    ("noop_dvc_repro_s", "no-op `dvc repro`", "<=", 3.0, "s"),
    ("snakemake_dry_run_s", "`snakemake -n`", "<=", 5.0, "s"),
)
PHASE_COLUMNS = ("d_step", "g_step", "memory", "rbm", "langevin", "data", "other")


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:,.{digits}g}" if abs(x) < 10 ** digits else f"{x:,.0f}"
    return str(x)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return lines + [""]


def time_to_quality_speedup(section: Mapping[str, Any], threshold: float) -> float | None:
    """Public seconds / pipeline seconds to ``threshold`` (>= 1: the pipeline is sooner). A
    recipe that never reached it counts its whole budget (public: a lower bound of the ratio;
    pipeline: 0)."""
    recipes = {r["recipe"]: r for r in section.get("recipes", [])}
    if {"pipeline", "public"} - set(recipes):
        return None
    key = f"{threshold:g}"
    ours, theirs = recipes["pipeline"]["reached"].get(key), recipes["public"]["reached"].get(key)
    if ours is None:
        return 0.0
    theirs_s = theirs["train_s"] if theirs else recipes["public"]["train_s"]
    return theirs_s / max(ours["train_s"], 1e-9)


def target_values(sections: Mapping[str, Any]) -> dict[str, float | None]:
    """The measured value behind each target (None when that section was not measured)."""
    cases = sections.get("training", {}).get("cases", [])
    workflow = sections.get("workflow", {})
    quality = sections.get("time_to_quality", {})
    return {
        "end_to_end_s": sections.get("end_to_end", {}).get("seconds"),
        "min_speedup": min((c["speedup"] for c in cases), default=None),
        "is5_speedup": time_to_quality_speedup(quality, 5.0),
        "is7_speedup": time_to_quality_speedup(quality, 7.0),
        "noop_dvc_repro_s": workflow.get("noop_dvc_repro", {}).get("seconds"),
        "snakemake_dry_run_s": workflow.get("snakemake_dry_run", {}).get("seconds"),
    }


def targets(sections: Mapping[str, Any]) -> list[dict[str, Any]]:
    values = target_values(sections)
    out = []
    for key, what, op, bound, unit in TARGETS:
        value = values[key]
        met = None if value is None else (value <= bound if op == "<=" else value >= bound)
        out.append({"key": key, "target": f"{what} {op} {bound:g} {unit}", "measured": value, "met": met})
    return out


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else ("met" if met else "**not met**")


def _training(section: Mapping[str, Any], peak: float) -> list[str]:
    lines = [f"## Training speed ({section.get('profile', '?')} profile, measured {section.get('measured_at', '?')})", "",
             "Ours: the pipeline's training path. Reference: the plain port in `bench/reference/` "
             "(per-sample Dataset + DataLoader, default per-parameter optimisers, `.item()` every step, D's "
             "weight gradients computed in the G step), same networks, same numbers "
             "(`tests/benchmark/`). Speed-up: median over alternating rounds. GFLOP/s: matmul/conv FLOPs "
             "(forward + backward) per step / ours' step time; % peak against the matmul peak measured in "
             "the same run. Phases: share of ours' step time.", ""]
    header = ["case", "experiment", "img/step", "ours img/s", "reference img/s", "speed-up", "GFLOP/step",
              "GFLOP/s", "% peak", "peak RSS MB", *[f"{p} %" for p in PHASE_COLUMNS]]
    rows = []
    for c in section.get("cases", []):
        split = c["phase_fraction"]
        rows.append([f"{c['model']}/{c['dataset']}", c["experiment"], c["images_per_step"], c["ours_images_per_s"],
                     c["reference_images_per_s"], c["speedup"], c["gflop_per_step"], c["gflops"],
                     100 * c["gflops"] / peak if peak else None, c["peak_rss_mb"],
                     *[100 * split.get(p, 0.0) for p in PHASE_COLUMNS]])
    return lines + _table(header, rows)


def _compile(section: Mapping[str, Any]) -> list[str]:
    if not section:
        return []
    s = section
    return [f"## `runtime.compile` ({s['experiment']}, measured {s.get('measured_at', '?')})", "",
            f"Eager {_fmt(s['eager_step_ms'])} ms/step, `torch.compile`d networks {_fmt(s['compiled_step_ms'])} "
            f"ms/step (x{_fmt(s['speedup'])}), after {_fmt(s['compile_and_first_steps_s'])} s of compilation "
            "(less when inductor's cache is warm): "
            + ("faster here; worth `runtime.compile: true` for long runs." if s["speedup"] > 1.05 else
               "no faster here, hence off by default."), ""]


def _metrics(section: Mapping[str, Any]) -> list[str]:
    if not section:
        return []
    s = section
    lines = [f"## Scoring speed ({s['dataset']}, {s['images']} images, measured {s.get('measured_at', '?')})", "",
             "Same classifier, same images. torch-fidelity: `calculate_metrics` on Dataset inputs with its "
             f"defaults (batch {s['batch_size_fidelity']}, DataLoader worker processes started and both inputs "
             "extracted on every call); ours: "
             f"batches of {s['batch_size_ours']} under inference mode, real statistics cached by the reference "
             "stage.", ""]
    return lines + _table(
        ["what", "ours", "torch-fidelity", "speed-up"],
        [["feature extraction, images/s", s["extract_images_per_s_ours"], s["extract_images_per_s_fidelity"],
          s["extract_speedup"]],
         ["IS + FID of one sample set, s", s["score_s_ours"], s["score_s_fidelity"], s["score_speedup"]]])


def _workflow(workflow: Mapping[str, Any], e2e: Mapping[str, Any]) -> list[str]:
    rows = []
    for key, what in (("noop_dvc_repro", "no-op `dvc repro`"), ("snakemake_dry_run", "`snakemake -n`")):
        entry = workflow.get(key, {})
        rows.append([what, entry.get("seconds"), entry.get("skipped", "")])
    rows.append(["`dvc repro` from an empty cache (default profile)", e2e.get("seconds"),
                 e2e.get("skipped", f"{e2e.get('stages', '?')} stages, measured {e2e.get('measured_at', '?')}"
                         if e2e else "run `python -m pipeline bench --end-to-end`")])
    return ["## Workflow", ""] + _table(["what", "seconds", "note"], rows)


def _scaling(section: Mapping[str, Any]) -> list[str]:
    if not section:
        return []
    lines = [f"## Scale notes (measured {section.get('measured_at', '?')})", "",
             "Each point in a fresh process on synthetic data of the shape; peak RSS above the process's "
             "baseline after imports. Fit: step ms = a + b x (least squares).", ""]
    for axis, data in section.get("axes", {}).items():
        fit = data["fit"]
        lines += [f"### {axis.replace('_', ' ')}: {data['note']}", "",
                  f"step ms ≈ {fit['intercept_ms']:.3g} + {fit['slope_ms']:.3g} × {fit.get('variable', axis)}", ""]
        lines += _table([axis, "step ms", "GFLOP/step", "peak RSS above baseline MB"],
                        [[p["value"], p["step_ms"], p["gflop_per_step"], p["above_baseline_mb"]]
                         for p in data["points"]])
    return lines


def _reached(entry: Mapping[str, Any] | None, budget: str) -> str:
    return f"{_fmt(entry['train_s'])} s (step {entry['step']})" if entry else f"not within {budget}"


def _time_to_quality(section: Mapping[str, Any]) -> list[str]:
    if not section:
        return []
    s = section
    thresholds = " and ".join(f"{t:g}" for t in s["thresholds"])
    about = (f"Seconds of training ({s['threads']} threads, CPU; evaluations excluded) until the "
             f"generator's IS reaches {thresholds}. Pipeline: the params file's gan_mnist (its "
             "first run: the profile's hyperparameters and batch), stepped as the trainer does. "
             "Public: bench/public_gan.py, the PyTorch-GAN `gan.py` recipe (MLP G "
             "100-128-256-512-1024-784 with BatchNorm, MLP D 784-512-256-1, Adam 2e-4 / "
             "(0.5, 0.999), batch 64, BCE), same seed. Both scored by the same learning-curve "
             f"monitor ({s['eval_n']} samples of a fixed latent draw, {s['is_splits']} IS splits, "
             f"the domain classifier and held-out statistics of refs/{s['dataset']}; real held-out "
             f"IS {_fmt(s['real_is'])}) after every {_fmt(s['every_s'])} s of training, so each "
             f"time is resolved to within that interval. Budget: {_fmt(s['budget_s'])} s of "
             f"training per recipe. float32 matmul peak at {s['threads']} threads in the same run: "
             f"{_fmt(s['matmul_peak_gflops'])} GFLOP/s.")
    lines = [f"## Time to quality ({s['dataset']}, measured {s.get('measured_at', '?')})", "",
             about, ""]
    budget = f"{_fmt(s['budget_s'])} s"
    rows = [[r["recipe"], r["experiment"], r["batch"],
             *[_reached(r["reached"].get(f"{t:g}"), budget) for t in s["thresholds"]],
             r["steps"], r["train_s"], r["images_per_s"], r["best_is"], r["final_fid"],
             r["eval_s"]]
            for r in s.get("recipes", [])]
    header = ["recipe", "source", "batch", *[f"IS {t:g} reached at" for t in s["thresholds"]],
              "steps", "training s", "images/s", "best IS", "final FID", "evaluation s"]
    return lines + _table(header, rows)


def _projection(section: Mapping[str, Any]) -> list[str]:
    if not section:
        return []
    rates = list(section["gpu_hours"])
    lines = [f"## Paper profile on one GPU: projection (measured {section.get('measured_at', '?')})", "",
             f"Training FLOPs: the mean FLOPs of a step of each experiment at its published settings (steps 0 "
             f"and half-way; grids: step 0 of up to 4 configurations) x steps x runs. Hours assume a {section['assumption']}. "
             "Peak RSS: one such step on this CPU (activations, weights, optimiser state).", ""]
    rows = [[r["experiment"], r["model"], r["dataset"], r["runs"], r["steps_per_run"], r["batch"], r["gflop_per_step"],
             r["total_pflop"], *[r["total_pflop"] * 1e15 / (float(t) * 1e12) / 3600 for t in rates],
             r["probe_above_baseline_mb"]] for r in section["experiments"]]
    rows.append(["**total**", "", "", sum(r["runs"] for r in section["experiments"]), "", "", "",
                 section["total_pflop"], *[section["gpu_hours"][t] for t in rates], ""])
    return lines + _table(["experiment", "model", "dataset", "runs", "steps/run", "batch", "GFLOP/step", "PFLOP",
                           *[f"h @ {t} TFLOP/s" for t in rates], "peak RSS MB"], rows)


def render(bench: Mapping[str, Any]) -> str:
    sections = bench.get("sections", {})
    machine = bench.get("machine", {})
    peak = machine.get("matmul_peak_gflops")
    lines = ["# Benchmarks", "",
             f"Written by `python -m pipeline bench` ({bench.get('measured_at', '?')}); raw numbers in "
             "`reports/bench.json`. Ratios are measured within one run; absolute numbers are this machine's.", "",
             f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, torch "
             f"{machine.get('torch', '?')}, {machine.get('threads', '?')} threads; float32 matmul peak "
             f"{_fmt(peak)} GFLOP/s (measured in the same run).", "", "## Targets", ""]
    lines += _table(["target", "measured", "verdict"],
                    [[t["target"], t["measured"], _verdict(t["met"])] for t in targets(sections)])
    if "training" in sections:
        lines += _training(sections["training"], peak)
    lines += _compile(sections.get("compile", {}))
    lines += _metrics(sections.get("metrics", {}))
    lines += _workflow(sections.get("workflow", {}), sections.get("end_to_end", {}))
    lines += _scaling(sections.get("scaling", {}))
    lines += _projection(sections.get("projection", {}))
    lines += _time_to_quality(sections.get("time_to_quality", {}))
    return "\n".join(lines).rstrip() + "\n"
