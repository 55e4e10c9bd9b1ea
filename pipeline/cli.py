"""Argument parsing and dispatch for ``python -m pipeline``.

Each verb lives in ``pipeline/commands/<verb>.py`` with ``add_arguments(parser)``
and ``run(args) -> int``; modules are imported only when their verb runs, so
``plan`` and parameter validation never pay for torch.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import traceback
from pathlib import Path
from typing import TextIO

from pipeline.errors import PipelineError

VERBS: dict[str, tuple[str, str]] = {
    "plan": ("pipeline.commands.plan", "validate params.yaml and print the expanded run table"),
    "profile": ("pipeline.commands.profile", "switch params.yaml (and runs.yaml) to a profile"),
    "fetch": ("pipeline.commands.fetch", "materialise a dataset into data/<name>/ with checksums"),
    "train": ("pipeline.commands.train", "train the runs of one job"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, (module, help_text) in VERBS.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
        p.add_argument("--log", help="also write this command's output to this file")
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


class _Tee:
    """Write to the console and to a log file."""

    def __init__(self, console: TextIO, log: TextIO):
        self.console, self.log = console, log

    def write(self, text: str) -> int:
        self.log.write(text)
        return self.console.write(text)

    def flush(self) -> None:
        self.log.flush()
        self.console.flush()

    def isatty(self) -> bool:
        return self.console.isatty()


@contextlib.contextmanager
def _logging_to(path: str | None):
    if not path:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as log:
        out, err = _Tee(sys.stdout, log), _Tee(sys.stderr, log)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with _logging_to(args.log):
        try:
            return int(importlib.import_module(args._module).run(args) or 0)
        except PipelineError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except Exception:
            traceback.print_exc()
            return 1
