"""``fetch NAME``: write dataset NAME to data/NAME/ with a sha256 manifest, or
(``--verify``) check an existing copy, hashing every file in full."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.config import load_params, make_plan
from pipeline.errors import ConfigError, did_you_mean


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="dataset name from params.yaml")
    p.add_argument("--out", help="output folder (default data/NAME)")
    p.add_argument("--verify", action="store_true", help="only verify the existing copy")


def run(args: argparse.Namespace) -> int:
    plan = make_plan(load_params(args.params))
    if args.name not in plan.datasets:
        raise ConfigError(f"dataset {args.name!r} is not in params.yaml{did_you_mean(args.name, plan.datasets)}; "
                          f"defined: {', '.join(sorted(plan.datasets))}")
    cfg = plan.datasets[args.name]
    out = Path(args.out or f"data/{cfg.storage}")
    if args.verify:
        from pipeline.data.manifest import verify

        manifest = verify(out, cfg.storage, full=True)
        print(f"{out}: {len(manifest['files'])} files match their sha256")
        return 0
    from pipeline.data.fetch import fetch

    path = fetch(cfg, out)
    print(f"fetched {args.name} -> {path}")
    return 0
