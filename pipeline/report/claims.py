"""Claims as data, verdicts by code.

Each paper's published claims live in ``pipeline/claims/<paper>.yaml``; this
module validates them when loaded and computes a verdict for each against the
aggregate table (``reports/aggregate/runs.csv``). Verdicts are never typed by
hand.

Schema of a claims file
-----------------------

.. code-block:: yaml

    paper: memorygan                      # must equal the file name
    title: MemoryGAN (Kim, Kim & Kim, ICLR 2018)
    claims:
      - id: memorygan-t2-order-fashion    # unique over all files: [a-z0-9_-]+
        source: Table 2                   # the table / figure it comes from
        statement: full > -EM > -MCGN > -Memory in IS on Fashion-MNIST
        test: order                       # see "Tests" below
        metric: G/is                      # aggregate metric name (runs.csv `metric`)
        groups:                           # what is compared, in the claimed order
          - label: full                   # shown in the report
            select: {paper: memorygan, dataset_kind: fashion_mnist, variant: full}
            published: 6.39               # optional, shown beside ours
            published_err: 0.29           # optional (the paper's ±)
          - label: -EM
            select: {paper: memorygan, dataset_kind: fashion_mnist, variant: no_em}
            published: 6.05
        profiles: [paper]                 # optional: profiles where the claim is meaningful
        note: our classifier, not the paper's   # optional, shown in the report

Group keys: ``label`` (required); ``select`` (a mapping of row filters) or
``value`` (a published constant we do not run, e.g. a baseline's number, in
published units); optional ``metric`` (overrides the claim's, e.g. ``pixel/is``
vs ``G/is`` for two sample sets of the same runs, or ``real/is`` for the
real-data ceiling), ``published``, ``published_err``, ``floor_share`` (a grid's
group: learned when this share of its runs clear the quality floor, see below).

Selector keys (a scalar matches equal values, a list matches any of them):
``paper``, ``experiment``, ``model``, ``variant``, ``dataset``, ``dataset_kind``
(robust across profiles: ``mnist_offline`` in smoke, ``mnist`` in paper),
``config``, ``seed``, and ``grid`` (a mapping from a dotted grid key such as
``hparams.lr`` to a value or list of values). The real-data ceiling rows have
variant ``real data`` and metrics ``real/<name>``.

Claim keys besides the above: ``tolerance`` (absolute, published units: the
band of ``within``, the margin of ``not_less``), ``rel_tolerance`` (``within``:
fraction of the published value), ``target`` (``closer_to``: a number or a
group mapping whose mean is the target), ``factor`` (``greater``/``less``/
``not_less``: compare A with factor x B, e.g. 1.10 for "at most 10% slower"),
``paired`` (``greater``/``less``/``not_less``: bootstrap per-run differences
over the runs both groups share, for two sample sets of the same runs),
``unit_scale`` (our value x unit_scale = published units, e.g. 100 when the
paper reports % and we store fractions).

Tests and verdict rules
-----------------------

All intervals are percentile bootstrap CIs (``scoring.bootstrap_samples``,
``scoring.ci_level``, fixed seeds) over the runs of each group, in published
units.

- ``greater`` (2 groups): A > factor x B. *holds* when the CI of
  mean(A) - factor x mean(B) lies above 0, *fails* when it lies below 0,
  *inconclusive* when it contains 0.
- ``less`` (2 groups): the mirror image.
- ``not_less`` (2 groups, "A is not worse than B"): *holds* when the CI's
  lower end is >= -tolerance, *fails* when its upper end is < -tolerance.
- ``order`` (>= 2 groups): G1 > G2 > ... ; every adjacent pair is a
  ``greater`` test; *holds* when all hold, *fails* when any fails.
- ``within`` (1 group with ``published``): *holds* when the CI of our mean
  lies inside published ± tolerance, *fails* when it lies wholly outside.
- ``closer_to`` (2 groups, ``target``): |A - t| < |B - t|, via the CI of
  |mean(B) - t| - |mean(A) - t|.
- ``qualitative`` (>= 1 group, no metric): the paper shows only a figure;
  *inconclusive* by construction ("judge the figure"), never *holds*.

*not run* when the active profile is not in ``profiles`` (claims on absolute
published numbers or against published constants must list their profiles),
or when any selected group matches no row of the aggregate (its experiment was
not run): a claim is never *holds* without data. A group with fewer than
``MIN_VALUES`` finite values makes the claim *inconclusive*.

The quality floor: learned before judged. Every test but ``qualitative`` is
*inconclusive — below the quality floor* when any group of runs has not learned
(:mod:`pipeline.report.floor`): on the sample set the group's metric refers to
(``G/is``, ``G/fid`` -> ``G``; ``latent/is`` -> ``latent``; a metric that is not
per set, such as ``run/test_error``, -> the run's main set ``G``), the mean IS of
the group's runs is below the floor of their dataset, ``real/is_floor`` of the
aggregate (``scoring.quality_floor`` x the real held-out IS, per dataset
``scoring.quality_floor_overrides``). No comparison is then made: the reason
names each group below the floor, *below the quality floor (IS 1.02 < 5.98 for
A)*. Exempt: published constants, real-data groups (``real/...`` metrics),
groups that are not applicable (no IS for that set, e.g. 2D toys, or a dataset
without a floor), and claims marked ``quality_floor: false``, which are not about
what the generator draws (a training-time ratio, a classifier's test error). The rule applies after *not run* and the ``MIN_VALUES`` rule.

Below the floor is deliberately not a fifth verdict: it *is* inconclusive (the
data cannot decide the claim), and every count of inconclusive claims must
include it. The result carries the groups below the floor
(``ClaimResult.below_floor``) so the report labels it
(``ClaimResult.verdict_text``) and counts it apart (:func:`verdict_summary`).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import PipelineError, did_you_mean
from pipeline.report import floor, stats
from pipeline.yaml12 import YAMLSyntaxError, load_yaml

CLAIMS_DIR = Path(__file__).resolve().parents[1] / "claims"
PAPERS: tuple[str, ...] = ("gan", "ebgan", "aan", "memorygan", "dcd")
TESTS: dict[str, tuple[int, int | None]] = {  # test -> (min groups, max groups)
    "greater": (2, 2),
    "less": (2, 2),
    "not_less": (2, 2),
    "order": (2, None),
    "within": (1, 1),
    "closer_to": (2, 2),
    "qualitative": (1, None),
}
CLAIM_KEYS = {
    "id", "source", "statement", "test", "metric", "groups", "profiles", "tolerance", "rel_tolerance",
    "target", "factor", "paired", "unit_scale", "note", "quality_floor",
}
GROUP_KEYS = {"label", "select", "value", "metric", "published", "published_err", "floor_share"}
SELECT_KEYS = {"paper", "experiment", "model", "variant", "dataset", "dataset_kind", "config", "seed", "grid"}
VERDICTS = ("holds", "fails", "inconclusive", "not run")
MIN_VALUES = 2  # [ours] fewer finite values than this per group: no interval, inconclusive
BELOW_FLOOR = "below the quality floor"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ClaimError(PipelineError):
    """A claims file is malformed: names the file, the claim and the key."""


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Group:
    label: str
    select: Mapping[str, Any] | None = None
    value: float | None = None
    metric: str | None = None
    published: float | None = None
    published_err: float | None = None
    floor_share: float | None = None

    @property
    def constant(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    source: str
    statement: str
    test: str
    metric: str | None
    groups: tuple[Group, ...]
    profiles: tuple[str, ...] | None = None
    tolerance: float = 0.0
    rel_tolerance: float | None = None
    target: float | Group | None = None
    factor: float = 1.0
    paired: bool = False
    unit_scale: float = 1.0
    note: str = ""
    quality_floor: bool = True

    def metric_of(self, group: Group) -> str | None:
        return group.metric or self.metric


def _number(value: Any, where: str, *, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ClaimError(f"{where} = {value!r}: expected a finite number")
    if positive and value <= 0:
        raise ClaimError(f"{where} = {value!r}: must be > 0")
    if nonneg and value < 0:
        raise ClaimError(f"{where} = {value!r}: must be >= 0")
    return float(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ClaimError(f"{where} = {value!r}: expected a non-empty string")
    return value


def _unknown(keys: Any, allowed: set[str], where: str) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        named = ", ".join(f"{key}{did_you_mean(key, allowed)}" for key in extra)
        raise ClaimError(f"{where}: unknown key(s) {named}; allowed: {', '.join(sorted(allowed))}")


def _selector(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping) or not raw:
        raise ClaimError(f"{where} = {raw!r}: expected a non-empty mapping of row filters")
    _unknown(raw, SELECT_KEYS, where)
    out = dict(raw)
    if "grid" in out and not isinstance(out["grid"], Mapping):
        raise ClaimError(f"{where}.grid = {out['grid']!r}: expected a mapping of dotted grid keys to values")
    return out


def _group(raw: Any, where: str) -> Group:
    if not isinstance(raw, Mapping):
        raise ClaimError(f"{where}: expected a mapping with label and select (or value)")
    _unknown(raw, GROUP_KEYS, where)
    if "label" not in raw:
        raise ClaimError(f"{where}: missing required key label")
    if ("select" in raw) == ("value" in raw):
        raise ClaimError(f"{where}: give exactly one of select (rows we run) or value (a published constant)")
    return Group(
        label=_text(raw["label"], f"{where}.label"),
        select=_selector(raw["select"], f"{where}.select") if "select" in raw else None,
        value=_number(raw["value"], f"{where}.value") if "value" in raw else None,
        metric=_text(raw["metric"], f"{where}.metric") if "metric" in raw else None,
        published=_number(raw["published"], f"{where}.published") if "published" in raw else None,
        published_err=_number(raw["published_err"], f"{where}.published_err", nonneg=True)
        if "published_err" in raw else None,
        floor_share=_share(raw["floor_share"], f"{where}.floor_share") if "floor_share" in raw else None,
    )


def _share(value: Any, where: str) -> float:
    share = _number(value, where, positive=True)
    if share > 1:
        raise ClaimError(f"{where} = {value!r}: a share of runs, in (0, 1]")
    return share


def parse_claim(raw: Any, paper: str, where: str) -> Claim:
    """Validate one claim mapping; ``where`` names the file for error messages."""
    if not isinstance(raw, Mapping):
        raise ClaimError(f"{where}: each claim must be a mapping")
    cid = raw.get("id")
    if not isinstance(cid, str) or not ID_PATTERN.match(cid):
        raise ClaimError(f"{where}: claim id = {cid!r}: expected lowercase letters, digits, '-' or '_'")
    w = f"{where}: claim {cid!r}"
    _unknown(raw, CLAIM_KEYS, w)
    for key in ("source", "statement", "test", "groups"):
        if key not in raw:
            raise ClaimError(f"{w}: missing required key {key}")
    test = raw["test"]
    if test not in TESTS:
        raise ClaimError(f"{w}: test = {test!r}: unknown; allowed: {', '.join(TESTS)}")
    metric = raw.get("metric")
    if test != "qualitative" and metric is None:
        raise ClaimError(f"{w}: missing required key metric (every test but qualitative compares a metric)")
    if metric is not None:
        metric = _text(metric, f"{w}.metric")
    groups_raw = raw["groups"]
    if not isinstance(groups_raw, list):
        raise ClaimError(f"{w}.groups: expected a list of groups")
    lo, hi = TESTS[test]
    if len(groups_raw) < lo or (hi is not None and len(groups_raw) > hi):
        count = f"exactly {lo}" if lo == hi else f"at least {lo}"
        raise ClaimError(f"{w}.groups: test {test} needs {count} group(s), got {len(groups_raw)}")
    groups = tuple(_group(g, f"{w}.groups[{i}]") for i, g in enumerate(groups_raw))
    if all(g.constant for g in groups):
        raise ClaimError(f"{w}.groups: at least one group must select rows we run (all are constants)")
    profiles = raw.get("profiles")
    if profiles is not None:
        if not isinstance(profiles, list) or not profiles or not all(isinstance(p, str) for p in profiles):
            raise ClaimError(f"{w}.profiles = {profiles!r}: expected a non-empty list of profile names")
        profiles = tuple(profiles)
    absolute = test == "within" or any(g.constant for g in groups)
    if absolute and profiles is None:
        raise ClaimError(
            f"{w}: compares with absolute published numbers, so it must list profiles "
            "(the profiles whose scale matches the paper's, e.g. [paper])"
        )
    if test == "within":
        if groups[0].published is None or groups[0].constant:
            raise ClaimError(f"{w}.groups[0]: test within needs a select group with published")
        if "tolerance" not in raw and "rel_tolerance" not in raw:
            raise ClaimError(f"{w}: test within needs tolerance or rel_tolerance")
    if test == "closer_to":
        if "target" not in raw:
            raise ClaimError(f"{w}: test closer_to needs target (a number or a group)")
        target: float | Group = (
            _group(raw["target"], f"{w}.target") if isinstance(raw["target"], Mapping)
            else _number(raw["target"], f"{w}.target")
        )
    else:
        if "target" in raw:
            raise ClaimError(f"{w}: key target is only used by test closer_to")
        target = None
    for key in ("factor", "paired"):
        if key in raw and test not in ("greater", "less", "not_less"):
            raise ClaimError(f"{w}: key {key} is only used by tests greater, less and not_less")
    paired = raw.get("paired", False)
    if not isinstance(paired, bool):
        raise ClaimError(f"{w}.paired = {paired!r}: expected true or false")
    if paired and any(g.constant for g in groups):
        raise ClaimError(f"{w}: paired needs two select groups")
    quality_floor = raw.get("quality_floor", True)
    if not isinstance(quality_floor, bool):
        raise ClaimError(f"{w}.quality_floor = {quality_floor!r}: expected true or false")
    return Claim(
        id=cid,
        paper=paper,
        source=_text(raw["source"], f"{w}.source"),
        statement=_text(raw["statement"], f"{w}.statement"),
        test=test,
        metric=metric,
        groups=groups,
        profiles=profiles,
        tolerance=_number(raw.get("tolerance", 0.0), f"{w}.tolerance", nonneg=True),
        rel_tolerance=_number(raw["rel_tolerance"], f"{w}.rel_tolerance", positive=True)
        if "rel_tolerance" in raw else None,
        target=target,
        factor=_number(raw.get("factor", 1.0), f"{w}.factor", positive=True),
        paired=paired,
        unit_scale=_number(raw.get("unit_scale", 1.0), f"{w}.unit_scale", positive=True),
        note=str(raw.get("note", "")),
        quality_floor=quality_floor,
    )


@dataclass(frozen=True)
class ClaimFile:
    paper: str
    title: str
    claims: tuple[Claim, ...]


def load_claim_file(path: Path | str) -> ClaimFile:
    path = Path(path)
    try:
        raw = load_yaml(path.read_text())
    except YAMLSyntaxError as exc:
        raise ClaimError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, Mapping):
        raise ClaimError(f"{path}: expected a mapping with paper, title and claims")
    _unknown(raw, {"paper", "title", "claims"}, str(path))
    paper = raw.get("paper")
    if paper != path.stem:
        raise ClaimError(f"{path}: paper = {paper!r} must equal the file name ({path.stem!r})")
    if not isinstance(raw.get("claims"), list):
        raise ClaimError(f"{path}: claims: expected a list")
    claims = tuple(parse_claim(c, paper, str(path)) for c in raw["claims"])
    return ClaimFile(paper=paper, title=_text(raw.get("title"), f"{path}: title"), claims=claims)


def load_claims(directory: Path | str = CLAIMS_DIR) -> dict[str, ClaimFile]:
    """All claim files of ``directory`` keyed by paper (papers in PAPERS order first);
    claim ids must be unique across files."""
    directory = Path(directory)
    files = sorted(directory.glob("*.yaml"), key=lambda p: (PAPERS.index(p.stem) if p.stem in PAPERS
                                                            else len(PAPERS), p.stem))
    out: dict[str, ClaimFile] = {}
    seen: dict[str, str] = {}
    for path in files:
        cf = load_claim_file(path)
        for c in cf.claims:
            if c.id in seen:
                raise ClaimError(f"{path}: claim {c.id!r} is also defined in {seen[c.id]}")
            seen[c.id] = str(path)
        out[cf.paper] = cf
    return out


# --------------------------------------------------------------------------- selection


def _norm(value: Any) -> Any:
    """Comparable form of a grid value: numbers as floats (1 == 1.0), the rest as JSON."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return json.dumps(value, sort_keys=True)


def _grid_match(point: Mapping[str, Any], key: str, allowed: Sequence[Any]) -> bool:
    return key in point and _norm(point[key]) in allowed


def _matches(series: Any, wanted: Any) -> Any:
    values = wanted if isinstance(wanted, list) else [wanted]
    return series.astype(str).isin([str(v) for v in values])


def select_rows(runs: Any, selector: Mapping[str, Any], metric: str | None) -> Any:
    """Rows of the tidy runs table matching ``selector`` (and ``metric`` when given)."""
    mask = runs["metric"] == metric if metric is not None else runs["metric"].notna()
    for key, wanted in selector.items():
        if key == "grid":
            points = runs["grid_point"].map(lambda s: json.loads(s) if isinstance(s, str) and s else {})
            for gkey, gval in wanted.items():
                allowed = [_norm(v) for v in (gval if isinstance(gval, list) else [gval])]
                mask &= points.map(lambda p, k=gkey, a=allowed: _grid_match(p, k, a))
        elif key in runs.columns:
            mask &= _matches(runs[key], wanted)
        else:
            mask &= False
    return runs[mask]


# --------------------------------------------------------------------------- verdicts


@dataclass
class GroupResult:
    label: str
    metric: str | None
    n: int = 0
    n_failed: int = 0
    mean: float = float("nan")
    std: float = float("nan")
    ci: tuple[float, float] = (float("nan"), float("nan"))
    published: float | None = None
    published_err: float | None = None
    constant: bool = False
    present: bool = False
    values: list[float] = field(default_factory=list, repr=False)
    run_ids: list[str] = field(default_factory=list, repr=False)


@dataclass
class ClaimResult:
    claim: Claim
    verdict: str
    reason: str
    profile: str
    groups: list[GroupResult]
    comparisons: list[tuple[str, stats.Interval]] = field(default_factory=list)
    below_floor: list[tuple[str, floor.SetFloor]] = field(default_factory=list)  # (group label, standing)

    @property
    def verdict_text(self) -> str:
        """The verdict as the report shows it: ``inconclusive — below the quality floor``
        when the floor decided it, else the verdict."""
        return f"{self.verdict} — {BELOW_FLOOR}" if self.below_floor else self.verdict


@dataclass(frozen=True)
class Settings:
    profile: str
    bootstrap_samples: int = 1000
    ci_level: float = 0.95


def _group_result(claim: Claim, group: Group, runs: Any, settings: Settings) -> GroupResult:
    metric = claim.metric_of(group)
    gr = GroupResult(group.label, metric, published=group.published, published_err=group.published_err,
                     constant=group.constant)
    if group.constant:
        gr.mean, gr.present, gr.n = float(group.value), True, 0
        return gr
    rows = select_rows(runs, group.select or {}, None)
    gr.present = not rows.empty
    gr.n_failed = int((rows.drop_duplicates("run_id")["status"] != "ok").sum()) if gr.present else 0
    if metric is None:  # qualitative: presence only
        return gr
    rows = rows[(rows["metric"] == metric) & rows["value"].notna()]
    scale = claim.unit_scale
    gr.values = [float(v) * scale for v in rows["value"]]
    gr.run_ids = [str(r) for r in rows["run_id"]]
    gr.n = len(gr.values)
    if gr.n:
        interval = stats.mean_ci(gr.values, settings.bootstrap_samples, settings.ci_level,
                                 f"{claim.id}/{group.label}")
        gr.mean, gr.ci = interval.estimate, (interval.low, interval.high)
        gr.std = float(np.std(gr.values, ddof=1)) if gr.n > 1 else float("nan")
    return gr


def _side(interval: stats.Interval, want_positive: bool) -> str:
    if interval.low > 0:
        return "holds" if want_positive else "fails"
    if interval.high < 0:
        return "fails" if want_positive else "holds"
    return "inconclusive"


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _ci_text(interval: stats.Interval) -> str:
    return f"{_fmt(interval.estimate)} [{_fmt(interval.low)}, {_fmt(interval.high)}]"


def _pair_interval(claim: Claim, a: GroupResult, b: GroupResult, settings: Settings, key: str) -> stats.Interval:
    n, level = settings.bootstrap_samples, settings.ci_level
    if claim.paired:
        b_by_run = dict(zip(b.run_ids, b.values))
        shared = [(va, b_by_run[r]) for r, va in zip(a.run_ids, a.values) if r in b_by_run]
        if len(shared) < MIN_VALUES:
            return stats.Interval(float("nan"), float("nan"), float("nan"))
        xa, xb = zip(*shared)
        return stats.paired_diff_ci(xa, xb, n, level, key, claim.factor)
    if a.constant and b.constant:  # two published constants: an exact difference
        d = a.mean - claim.factor * b.mean
        return stats.Interval(d, d, d)
    if a.constant:  # constant - factor * B: mirror of B's resampling
        inner = stats.diff_ci(b.values, a.mean / claim.factor, n, level, key)
        return stats.Interval(-claim.factor * inner.estimate, -claim.factor * inner.high,
                              -claim.factor * inner.low)
    return stats.diff_ci(a.values, b.mean if b.constant else b.values, n, level, key, claim.factor)


def _decide(claim: Claim, groups: list[GroupResult], target: GroupResult | None,
            settings: Settings) -> tuple[str, str, list[tuple[str, stats.Interval]]]:
    key = claim.id
    if claim.test == "qualitative":
        return "inconclusive", "qualitative figure in the paper: judge the figures in the paper's section", []
    if claim.test == "within":
        g = groups[0]
        tol = claim.tolerance if claim.rel_tolerance is None else claim.rel_tolerance * abs(g.published)
        lo_band, hi_band = g.published - tol, g.published + tol
        interval = stats.Interval(g.mean, *g.ci)
        band = f"published {_fmt(g.published)} ± {_fmt(tol)}"
        if lo_band <= interval.low and interval.high <= hi_band:
            return "holds", f"CI of ours inside {band}", [("ours", interval)]
        if interval.high < lo_band or interval.low > hi_band:
            return "fails", f"CI of ours outside {band}", [("ours", interval)]
        return "inconclusive", f"CI of ours overlaps the edge of {band}", [("ours", interval)]
    if claim.test == "closer_to":
        a, b = groups
        t = target.mean if isinstance(target, GroupResult) else float(claim.target)
        if a.constant:
            raise ClaimError(f"claim {claim.id!r}: closer_to needs a select group first")
        interval = stats.abs_gap_ci(a.values, b.mean if b.constant else b.values, t,
                                    settings.bootstrap_samples, settings.ci_level, key)
        name = f"|{b.label} - t| - |{a.label} - t|, t = {_fmt(t)}"
        return _side(interval, True), f"{name}: {_ci_text(interval)}", [(name, interval)]
    pairs = list(itertools.pairwise(groups))
    comparisons, verdicts = [], []
    for i, (a, b) in enumerate(pairs):
        interval = _pair_interval(claim, a, b, settings, f"{key}/{i}")
        factor = "" if claim.factor == 1 else f"{_fmt(claim.factor)}·"
        name = f"{a.label} - {factor}{b.label}"
        comparisons.append((name, interval))
        if not math.isfinite(interval.low):
            verdicts.append("inconclusive")
        elif claim.test == "not_less":
            verdicts.append("holds" if interval.low >= -claim.tolerance
                            else "fails" if interval.high < -claim.tolerance else "inconclusive")
        else:
            verdicts.append(_side(interval, claim.test in ("greater", "order")))
    verdict = "fails" if "fails" in verdicts else "holds" if all(v == "holds" for v in verdicts) else "inconclusive"
    reason = "; ".join(f"{name}: {_ci_text(iv)} → {v}" for (name, iv), v in zip(comparisons, verdicts))
    return verdict, reason, comparisons


def _floor_groups(claim: Claim) -> list[tuple[str, Group]]:
    """(label, group) of every group of runs the floor applies to, the target included."""
    groups = [(g.label, g) for g in claim.groups]
    if isinstance(claim.target, Group):
        groups.append((f"target {claim.target.label}", claim.target))
    return [(label, g) for label, g in groups if not g.constant]


def below_floor(claim: Claim, runs: Any) -> list[tuple[str, floor.SetFloor]]:
    """(group label, standing) of each group of ``claim`` whose runs have not learned (the
    quality floor of the module docstring); empty when every group is learned or exempt."""
    floor_of = floor.floors(runs)
    out = []
    for label, group in _floor_groups(claim):
        set_name = floor.sample_set(claim.metric_of(group) or "")
        if set_name is None:
            continue
        rows = select_rows(runs, group.select or {}, None)
        standing = floor.statuses(runs, floor_of, rows["run_id"].unique(), set_name, group.floor_share)
        spans = len(standing) > 1
        out += [(f"{label} on {s.dataset}" if spans else label, s) for s in standing if not s.learned]
    return out


def evaluate_claim(claim: Claim, runs: Any, settings: Settings) -> ClaimResult:
    """The verdict of one claim on the tidy runs table (see the module docstring)."""
    groups = [_group_result(claim, g, runs, settings) for g in claim.groups]
    result = ClaimResult(claim, "not run", "", settings.profile, groups)
    if claim.profiles is not None and settings.profile not in claim.profiles:
        result.reason = (f"not run at this profile: meaningful at profile(s) {', '.join(claim.profiles)}, "
                         f"this is {settings.profile}")
        return result
    absent = [g.label for g in groups if not g.present]
    target = None
    if isinstance(claim.target, Group):
        target = _group_result(claim, claim.target, runs, settings)
        if not target.present:
            absent.append(f"target {target.label}")
    if absent:
        result.reason = f"not run: no runs in the aggregate for {', '.join(absent)}"
        return result
    if claim.test != "qualitative":
        thin = [g.label for g in groups if not g.constant and g.n < MIN_VALUES]
        if target is not None and target.n == 0:
            thin.append(f"target {target.label}")
        if thin:
            result.verdict = "inconclusive"
            result.reason = f"fewer than {MIN_VALUES} finite values for {', '.join(thin)}"
            return result
        result.below_floor = below_floor(claim, runs) if claim.quality_floor else []
        if result.below_floor:
            result.verdict = "inconclusive"
            result.reason = f"{BELOW_FLOOR} (" + "; ".join(
                f"{s.comparison()} for {label}" for label, s in result.below_floor) + ")"
            return result
    result.verdict, result.reason, result.comparisons = _decide(claim, groups, target, settings)
    return result


def evaluate_all(files: Mapping[str, ClaimFile], runs: Any, settings: Settings) -> dict[str, list[ClaimResult]]:
    """Verdicts of every claim, keyed by paper (order of ``files``)."""
    return {paper: [evaluate_claim(c, runs, settings) for c in cf.claims] for paper, cf in files.items()}


def verdict_counts(results: Sequence[ClaimResult]) -> dict[str, int]:
    return {v: sum(r.verdict == v for r in results) for v in VERDICTS}


def verdict_summary(results: Sequence[ClaimResult]) -> str:
    """``3 holds, 1 fails, 20 inconclusive (12 below the quality floor), 5 not run``."""
    counts = verdict_counts(results)
    n_floor = sum(bool(r.below_floor) for r in results)
    return ", ".join(f"{n} {v}" + (f" ({n_floor} {BELOW_FLOOR})" if v == "inconclusive" and n_floor else "")
                     for v, n in counts.items())
