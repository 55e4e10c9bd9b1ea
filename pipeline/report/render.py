"""Assemble the report: claims table, one section per paper, provenance; md and html.

``reports/report.md`` links its figures (``figures/<paper>/*.png``);
``reports/report.html`` is the same document rendered with the ``markdown``
package and made self-contained: every image is embedded as a base64 data URI,
the style sheet is inline, and the only links are in-page anchors. Training
curves are also written as CSV under ``reports/plots/train/``, learning curves
(:mod:`pipeline.report.curves`) under ``reports/plots/curves/``, for ``dvc plots``
(the report stage declares ``reports/plots`` with ``x: step``). All of it is built in a
staging folder beside them and swapped in once complete (:data:`PUBLISHED`), so a
kill at any point of the build leaves the previous report whole.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.config import Plan
from pipeline.io import atomic_write_text, publish, staging_dir
from pipeline.provenance import git_commit, library_versions
from pipeline.report import aggregate, floor
from pipeline.report.claims import (
    CLAIMS_DIR,
    ClaimFile,
    ClaimResult,
    Settings,
    evaluate_all,
    load_claims,
    verdict_summary,
)
from pipeline.report.context import SectionContext, fmt, md_table, stat_text
from pipeline.report.curves import curve_section, write_curve_csvs
from pipeline.report.figures import loss_columns
from pipeline.report.missing import check_complete, missing_section
from pipeline.report.sections import renderer
from pipeline.report.sections.common import hparams_table

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1180px;margin:2em auto;
padding:0 1.2em;color:#1d2330;line-height:1.45;font-size:15px}
h1{border-bottom:2px solid #334;padding-bottom:.2em}h2{border-bottom:1px solid #ccd;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:12.5px;display:block;overflow-x:auto}
th,td{border:1px solid #d5d8e0;padding:3px 7px;vertical-align:top;text-align:left}
th{background:#eef0f5}tr:nth-child(even) td{background:#fafbfc}
td.verdict{font-weight:600;white-space:nowrap}
td.v-holds{background:#d9f2dd!important;color:#14591f}td.v-fails{background:#fbdcdc!important;color:#8a1717}
td.v-inconclusive{background:#fff3cd!important;color:#6b5200}td.v-not-run{background:#eceef2!important;color:#555}
td.v-below-floor{background:#fde2c8!important;color:#7a3b00}
img{max-width:100%;height:auto;display:block;margin:.6em 0}code{background:#f1f2f6;padding:0 3px;border-radius:3px}
.toc{background:#f6f7fa;border:1px solid #dde;padding:.4em 1em;display:inline-block}
"""
VERDICT_CELL = re.compile(r"<td>(holds|fails|inconclusive|not run)( — below the quality floor)?</td>")
IMG_SRC = re.compile(r'src="(figures/[^"]+\.png)"')
# What `report` writes, swapped in from its staging folder in this order once all of it is
# built: a kill before that leaves the previous report complete (folders first, so the new
# report.md never names a figure that is not there yet).
PUBLISHED = ("plots", "figures", "report.html", "report.md")


@dataclass
class ReportOutputs:
    markdown: Path
    html: Path
    results: dict[str, list[ClaimResult]]
    figures: list[Path]


# --------------------------------------------------------------------------- claims table


def _published_text(result: ClaimResult) -> str:
    cells = []
    for g in result.groups:
        if g.published is not None:
            err = f" ± {fmt(g.published_err)}" if g.published_err is not None else ""
            cells.append(f"{g.label}: {fmt(g.published)}{err}")
    return "<br>".join(cells) or "—"


def _ours_text(result: ClaimResult) -> str:
    if result.claim.test == "qualitative":
        return "figures in the paper's section" if result.verdict != "not run" else "—"
    cells = []
    for g in result.groups:
        if g.constant:
            continue
        if g.n == 0:
            cells.append(f"{g.label}: —")
        else:
            failed = f", {g.n_failed} failed" if g.n_failed else ""
            cells.append(f"{g.label}: {stat_text(g.mean, g.std, g.ci[0], g.ci[1])} (n={g.n}{failed})")
    return "<br>".join(cells) or "—"


def _profile_text(result: ClaimResult) -> str:
    claim_profiles = result.claim.profiles
    if claim_profiles is None:
        return result.profile
    return f"{result.profile} (meaningful at: {', '.join(claim_profiles)})"


def claims_table(results: Mapping[str, Sequence[ClaimResult]]) -> str:
    rows = []
    for paper, rs in results.items():
        for r in rs:
            c = r.claim
            rows.append([paper, f"`{c.id}`: {c.statement}" + (f" _({c.note})_" if c.note else ""), c.source,
                         _published_text(r), _ours_text(r), _profile_text(r), r.verdict_text, r.reason])
    return md_table(rows, ["paper", "claim", "source", "published", "ours: mean ± std [CI] (n)", "profile",
                           "verdict", "evidence"])


# --------------------------------------------------------------------------- provenance


def _train_infos(ctx_plan: Plan, runs_root: Path) -> list[dict[str, Any]]:
    import json

    infos = []
    for job in ctx_plan.jobs:
        for run in job.runs:
            path = runs_root / Path(job.out).relative_to("runs") / run.name / "train.json"
            if path.is_file():
                infos.append(json.loads(path.read_text()))
    return infos


def _sum_metric(runs: pd.DataFrame, experiment: str, metric: str) -> float:
    v = runs[(runs["experiment"] == experiment) & (runs["metric"] == metric)]["value"].astype(float)
    return float(v.sum()) if v.notna().any() else math.nan


def provenance_section(plan: Plan, runs: pd.DataFrame, runs_root: Path, refs_dir: Path) -> str:
    infos = _train_infos(plan, runs_root)
    commits = sorted({i.get("provenance", {}).get("git_commit", "unknown") for i in infos})
    devices = sorted({i.get("provenance", {}).get("device", "unknown") for i in infos})
    platforms = sorted({i.get("provenance", {}).get("platform", "") for i in infos} - {""})
    trained = (infos[0].get("provenance", {}).get("libraries", {}) if infos else {})
    now = library_versions()
    parts = ["## Provenance\n",
             f"- Profile: `{plan.profile}`",
             f"- Git commit of the training runs: {', '.join(f'`{c}`' for c in commits) or '—'}",
             f"- Git commit of this report: `{git_commit()}`",
             f"- Device(s): {', '.join(devices) or '—'}; platform: {', '.join(platforms) or '—'}",
             ("- Timings are wall-clock seconds on the recorded device; on a shared machine they are "
             "inflated by contention.\n"),
             "### Library versions\n",
             md_table([[k, trained.get(k, ""), v] for k, v in now.items()],
                      ["library", "at training", "at report"])]
    rows = []
    planned = runs[runs["variant"] != aggregate.REAL_VARIANT]
    for exp in dict.fromkeys(planned["experiment"]):
        sub = planned[planned["experiment"] == exp].drop_duplicates("run_id")
        ips = planned[(planned["experiment"] == exp) & (planned["metric"] == "train/images_per_s")]["value"]
        rows.append([exp, len(sub), int((sub["status"] != "ok").sum()),
                     fmt(_sum_metric(planned, exp, "train/wall_s")), fmt(_sum_metric(planned, exp, "train/sample_s")),
                     fmt(_sum_metric(planned, exp, "score/wall_s")),
                     fmt(float(ips.astype(float).mean()) if len(ips) else math.nan)])
    parts += ["### Wall time per stage (seconds, summed over runs)\n",
              md_table(rows, ["experiment", "runs", "failed", "train", "sampling + evaluate", "score",
                              "images/s (mean)"])]
    ref_rows = []
    for name in plan.used_datasets():
        info = _read_json(refs_dir / name / "reference.json")
        if info is not None:
            ref_rows.append([name, info.get("kind", ""), info.get("extractor", ""),
                             fmt(info.get("classifier_accuracy")), fmt(info.get("wall_s"))])
    if ref_rows:
        parts += ["### Real-data references\n",
                  md_table(ref_rows, ["dataset", "kind", "extractor", "classifier accuracy", "wall time (s)"])]
    return "\n".join(parts) + "\n"


def _read_json(path: Path) -> dict[str, Any] | None:
    import json

    return json.loads(path.read_text()) if path.is_file() else None


# --------------------------------------------------------------------------- html


def to_html(markdown_text: str, base: Path, title: str) -> str:
    """Self-contained HTML: markdown rendered, figures inlined as base64, inline CSS."""
    import markdown

    converter = markdown.Markdown(extensions=["tables", "fenced_code", "toc"],
                                  extension_configs={"toc": {"toc_depth": "2"}})
    body = converter.convert(markdown_text)
    body = body.replace("</h1>", "</h1>\n" + getattr(converter, "toc", ""), 1)

    def embed(match: re.Match) -> str:
        data = base64.b64encode((base / match.group(1)).read_bytes()).decode()
        return f'src="data:image/png;base64,{data}"'

    body = IMG_SRC.sub(embed, body)
    body = VERDICT_CELL.sub(lambda m: f'<td class="verdict v-{m.group(1).replace(" ", "-")}'
                                      f'{" v-below-floor" if m.group(2) else ""}">{m.group(1)}{m.group(2) or ""}</td>', body)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


# --------------------------------------------------------------------------- dvc plots


def write_plot_csvs(plan: Plan, runs_root: Path, plots_dir: Path) -> list[Path]:
    """reports/plots/train/<experiment>/<quantity>.csv with columns ``step,<quantity>``:
    each logged loss averaged over the experiment's runs at every step. One quantity per
    file so that ``dvc plots show`` (x: step, y: the last column) draws every curve."""
    written = []
    for exp in dict.fromkeys(j.experiment for j in plan.jobs):
        frames = []
        for job in (j for j in plan.jobs if j.experiment == exp):
            for run in job.runs:
                path = runs_root / Path(job.out).relative_to("runs") / run.name / "train_log.csv"
                if path.is_file() and path.stat().st_size:
                    frames.append(pd.read_csv(path))
        if not frames:
            continue
        mean = pd.concat(frames).groupby("step", as_index=False).mean(numeric_only=True)
        for col in loss_columns(mean):
            path = plots_dir / "train" / exp / f"{col}.csv"
            atomic_write_text(path, mean[["step", col]].to_csv(index=False))
            written.append(path)
    return written


# --------------------------------------------------------------------------- assembly


def _paper_section(ctx: SectionContext) -> str:
    body = renderer(ctx.paper)(ctx).strip()
    tables = [hparams_table(ctx, exp) for exp in ctx.experiments()]
    parts = [f"## {ctx.title}\n", body + "\n", curve_section(ctx)]
    if any(tables):
        parts += ["### Hyperparameters\n",
                  ("Source of each value: `paper`, `code` (authors' code), `ours` (no publication gives it), "
                  "`profile` (this profile overrides the default), `grid` (swept).\n")]
        parts += [t + "\n" for t in tables if t]
    return "\n".join(parts)


def build_report(plan: Plan, aggregate_dir: Path, runs_root: Path, refs_dir: Path, out_dir: Path,
                 claims_dir: Path = CLAIMS_DIR, allow_missing: bool = False) -> ReportOutputs:
    scoring = plan.params.get("scoring") or {}
    settings = Settings(plan.profile, int(scoring.get("bootstrap_samples", 1000)),
                        float(scoring.get("ci_level", 0.95)))
    runs, summary = aggregate.read_aggregate(aggregate_dir)
    check_complete(plan, runs, allow_missing)
    files: dict[str, ClaimFile] = load_claims(claims_dir)
    results = evaluate_all(files, runs, settings)
    out_dir = Path(out_dir)
    with staging_dir(out_dir, ".tmp-report-") as stage:
        figures = _write_report(plan, files, results, settings, runs, summary, Path(runs_root),
                                Path(refs_dir), stage)
        publish(stage, out_dir, PUBLISHED)
        figures = [out_dir / f.relative_to(stage) for f in figures]
    return ReportOutputs(out_dir / "report.md", out_dir / "report.html", results, figures)


def _write_report(plan: Plan, files: Mapping[str, ClaimFile], results: Mapping[str, list[ClaimResult]],
                  settings: Settings, runs: pd.DataFrame, summary: pd.DataFrame, runs_root: Path,
                  refs_dir: Path, out_dir: Path) -> list[Path]:
    """Every file of the report into the empty folder ``out_dir``; returns the figures."""
    (out_dir / "figures").mkdir()
    (out_dir / "plots").mkdir()
    real = aggregate.REAL_VARIANT
    ceilings = summary[summary["variant"] == real]
    figures: list[Path] = []
    sections = []
    for paper, cf in files.items():
        ctx = SectionContext(
            paper=paper, title=cf.title, profile=plan.profile, plan=plan,
            runs=runs[(runs["paper"] == paper) & (runs["variant"] != real)],
            summary=summary[(summary["paper"] == paper) & (summary["variant"] != real)],
            ceilings=ceilings, claims=results.get(paper, []), runs_root=runs_root, out_dir=out_dir,
            settings=settings,
        )
        sections.append(_paper_section(ctx))
        figures += ctx.figures_written

    floors = ", ".join(f"{d} {v:.2f}" for d, v in floor.floors(runs).items()) or "none"
    n_planned = runs[runs["variant"] != real]["run_id"].nunique()
    title = "Replication report: GAN, EBGAN, AAN, MemoryGAN, DCD"
    md = [f"# {title}\n",
          f"Profile **`{plan.profile}`** · {n_planned} runs · verdicts: "
          + verdict_summary([r for rs in results.values() for r in rs]) + "\n",
          "## Claims\n",
          ("Every published claim of the five papers with its verdict, computed from the aggregate table: "
          "*holds* / *fails* when the bootstrap CI "
          f"({settings.ci_level:.0%}, {settings.bootstrap_samples} resamples over runs) of the tested "
          "difference excludes 0 on the claimed / the other side, *inconclusive* when it does not, "
          "*not run* when the claim's experiments are absent or the claim is about absolute published "
          "numbers at a profile that does not match the paper's scale. Learned before judged: a claim "
          "is *inconclusive — below the quality floor*, never compared, when a compared group's mean IS "
          "is below its dataset's floor (`scoring.quality_floor` × the real held-out IS; here "
          f"{floors}). Schema and rules: `pipeline/report/claims.py`.\n"),
          claims_table(results),
          *sections,
          missing_section(plan, runs),
          provenance_section(plan, runs, runs_root, refs_dir)]
    text = "\n".join(md)
    atomic_write_text(out_dir / "report.md", text)
    atomic_write_text(out_dir / "report.html", to_html(text, out_dir, title))
    write_plot_csvs(plan, runs_root, out_dir / "plots")
    write_curve_csvs(plan, runs_root, out_dir / "plots")
    return figures
