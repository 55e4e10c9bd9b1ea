"""``bench``: the benchmark suite (pipeline/benchmark/) -> reports/bench.json and reports/bench.md.

Sections (``--sections``, default the first five; ``all`` for every one): ``training`` (per
model and dataset of the params file: ours vs the plain reference), ``compile``
(``runtime.compile`` on the first training case),
``metrics`` (feature extraction and scoring vs torch-fidelity), ``workflow``
(no-op ``dvc repro``, ``snakemake -n``), ``scaling`` (batch size, image size,
memory size), ``projection`` (the paper profile's cost on one GPU),
``time_to_quality`` (seconds of training for gan_mnist and a plain public-style recipe to
reach IS 5 and IS 7, 2 threads; up to ``--quality-budget`` seconds of training per recipe
plus evaluations: at most about 12 minutes by default) and ``end_to_end`` (``dvc repro``
of the default profile in a fresh copy, about ten minutes; also ``--end-to-end``). Sections not measured in a call keep their
previous results in bench.json, each with its own date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Any

from pipeline.config import PROFILES_DIR, load_params, make_plan
from pipeline.errors import ConfigError

SECTIONS = ("training", "compile", "metrics", "workflow", "scaling", "projection",
            "time_to_quality", "end_to_end")
# on request: projection (~5 min), time_to_quality (<= ~12 min), end_to_end (~10 min)
DEFAULT_SECTIONS = SECTIONS[:5]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="reports", help="folder of bench.json and bench.md (default: reports)")
    p.add_argument("--sections", default=",".join(DEFAULT_SECTIONS),
                   help=f"comma-separated subset of {', '.join(SECTIONS)}, or all")
    p.add_argument("--end-to-end", action="store_true", help="also time `dvc repro` of the default profile")
    p.add_argument("--keep-copy", default="",
                   help="end_to_end: run in this new folder and keep it (its runs, scores and report)")
    p.add_argument("--experiments", default="", help="training cases: these experiments instead of the first "
                                                     "experiment of each (model, dataset)")
    p.add_argument("--data", default="data", help="fetched datasets (fetched into a temporary folder if absent)")
    p.add_argument("--refs", default="refs", help="real-data references (for the domain classifier)")
    p.add_argument("--round-seconds", type=float, default=1.5, help="length of one timed round per case")
    p.add_argument("--rounds", type=int, default=3, help="alternating timed rounds per case")
    p.add_argument("--gpu-tflops", default="10,50", help="assumed sustained GPU rates for the projection")
    p.add_argument("--quality-budget", type=float, default=300.0,
                   help="time_to_quality: seconds of training per recipe at most")
    p.add_argument("--quality-every", type=float, default=2.0,
                   help="time_to_quality: seconds of training between evaluations")
    p.add_argument("--quality-steps", type=int, default=10**9,
                   help="time_to_quality: training steps per recipe at most")


def _sections(args: argparse.Namespace) -> list[str]:
    chosen = list(SECTIONS) if args.sections == "all" else [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"--sections: unknown {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.end_to_end and "end_to_end" not in chosen:
        chosen.append("end_to_end")
    return chosen


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _measure_case(params: dict, experiment: str, data: str, round_seconds: float, rounds: int) -> dict:
    from pipeline.benchmark.training import measure_case

    return measure_case(make_plan(params), experiment, Path(data), round_seconds, rounds)


def _measure_compile(params: dict, data: str) -> dict:
    from pipeline.benchmark.training import cases, measure_compile

    plan = make_plan(params)
    return measure_compile(plan, cases(plan)[0].experiment, Path(data))


def _measure_scoring(params: dict, data: str, refs: str) -> dict:
    from pipeline.benchmark.metrics import measure_scoring
    from pipeline.benchmark.training import open_data

    plan = make_plan(params)
    image = sorted((d for d in plan.used_datasets() if plan.datasets[d].kind in ("mnist_offline", "mnist")),
                   key=lambda d: bool(plan.datasets[d].options.get("pad_to")))  # native 28x28 first
    if not image:
        return {"skipped": "no MNIST-like dataset in the params file"}
    return measure_scoring(plan, open_data(plan, image[0], Path(data)), Path(refs))


def _measure_quality(params: dict, data: str, refs: str, every_s: float, budget_s: float,
                     max_steps: int) -> dict:
    from pipeline.benchmark.quality import measure_time_to_quality

    return measure_time_to_quality(make_plan(params), Path(data), Path(refs), every_s, budget_s,
                                   max_steps)


def _training(params: dict, args: argparse.Namespace) -> dict[str, Any]:
    from pipeline.benchmark.isolate import in_fresh_process
    from pipeline.benchmark.training import cases

    plan = make_plan(params)
    experiments = [e for e in args.experiments.split(",") if e] or [c.experiment for c in cases(plan)]
    results = []
    for name in experiments:
        print(f"[bench] training: {name}", flush=True)
        results.append(in_fresh_process(_measure_case, params, name, args.data, args.round_seconds, args.rounds))
        r = results[-1]
        print(f"[bench]   ours {r['ours_images_per_s']:.0f} img/s, reference {r['reference_images_per_s']:.0f} "
              f"img/s, x{r['speedup']:.2f}, {r['gflops']:.1f} GFLOP/s", flush=True)
    return {"profile": plan.profile, "cases": results}


def _measure(section: str, params: dict, args: argparse.Namespace) -> dict[str, Any]:
    from pipeline.benchmark import scaling, workflow
    from pipeline.benchmark.isolate import in_fresh_process

    root = Path.cwd()
    if section == "training":
        return _training(params, args)
    if section == "compile":
        return in_fresh_process(_measure_compile, params, args.data)
    if section == "metrics":
        return in_fresh_process(_measure_scoring, params, args.data, args.refs)
    if section == "workflow":
        return {"noop_dvc_repro": workflow.noop_dvc_repro(root), "snakemake_dry_run": workflow.snakemake_dry_run(root)}
    if section == "scaling":
        return {"axes": scaling.measure_axes()}
    if section == "time_to_quality":
        return in_fresh_process(_measure_quality, params, args.data, args.refs, args.quality_every,
                                args.quality_budget, args.quality_steps)
    if section == "projection":
        rates = [float(t) for t in args.gpu_tflops.split(",") if t]
        return scaling.project_paper(PROFILES_DIR / "paper.yaml", rates)
    return workflow.end_to_end(root, Path(args.keep_copy) if args.keep_copy else None)


def run(args: argparse.Namespace) -> int:
    chosen = _sections(args)
    params = load_params(args.params)
    import torch

    from pipeline.benchmark.peak import matmul_peak_gflops
    from pipeline.benchmark.render import render, targets
    from pipeline.io import atomic_write_json, atomic_write_text
    from pipeline.provenance import git_commit, library_versions

    out = Path(args.out)
    previous = json.loads((out / "bench.json").read_text()) if (out / "bench.json").is_file() else {}
    bench = {
        "measured_at": _now(),
        "git_commit": git_commit(),
        "machine": {"cpu": _cpu_name(), "cores": os.cpu_count(), "threads": torch.get_num_threads(),
                    "torch": torch.__version__, "matmul_peak_gflops": matmul_peak_gflops()["gflops"],
                    "libraries": library_versions()},
        "sections": dict(previous.get("sections", {})),
    }
    for section in chosen:
        print(f"[bench] {section} ...", flush=True)
        bench["sections"][section] = {"measured_at": _now(), **_measure(section, params, args)}
        bench["targets"] = targets(bench["sections"])
        atomic_write_json(out / "bench.json", bench)  # after every section: a later failure loses nothing
    peak = bench["machine"]["matmul_peak_gflops"]
    bench["machine"]["matmul_peak_gflops"] = max(peak, matmul_peak_gflops()["gflops"])
    bench["targets"] = targets(bench["sections"])
    atomic_write_json(out / "bench.json", bench)
    atomic_write_text(out / "bench.md", render(bench))
    for t in bench["targets"]:
        verdict = "not measured" if t["met"] is None else ("met" if t["met"] else "NOT MET")
        print(f"[bench] {t['target']}: {t['measured']} -> {verdict}")
    print(f"[bench] wrote {out / 'bench.json'} and {out / 'bench.md'}")
    return 0
