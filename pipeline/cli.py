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
    "reference": ("pipeline.commands.reference", "domain classifier and real-data statistics of a dataset"),
    "score": ("pipeline.commands.score", "score the samples of one job's runs"),
    "aggregate": ("pipeline.commands.aggregate", "tidy table of all scores with seed statistics"),
    "report": ("pipeline.commands.report", "claims with verdicts, figures, report.md and report.html"),
    "bench": ("pipeline.commands.bench", "benchmarks: training speed vs a plain port, scoring, workflow, scaling"),
}


def _usage() -> str:
    lines = ["usage: python -m pipeline VERB [options]   (python -m pipeline VERB --help)", "", "verbs:"]
    lines += [f"  {verb:<10} {help_text}" for verb, (_, help_text) in VERBS.items()]
    return "\n".join(lines)


def build_parser(verb: str) -> argparse.ArgumentParser:
    """The parser of one verb (only that verb's module is imported)."""
    module, help_text = VERBS[verb]
    parser = argparse.ArgumentParser(prog=f"python -m pipeline {verb}", description=help_text)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    parser.add_argument("--log", help="also write this command's output to this file")
    parser.set_defaults(_module=module)
    importlib.import_module(module).add_arguments(parser)
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
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    if argv[0] not in VERBS:
        print(f"error: unknown verb {argv[0]!r}; verbs: {', '.join(VERBS)}", file=sys.stderr)
        return 2
    args = build_parser(argv[0]).parse_args(argv[1:])
    with _logging_to(args.log):
        try:
            return int(importlib.import_module(args._module).run(args) or 0)
        except PipelineError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except PermissionError as exc:  # e.g. a read-only output folder
            print(f"error: {exc.filename or exc}: permission denied; give this user access to it "
                  "(e.g. chmod u+w on its folder) or choose another --out", file=sys.stderr)
            return 2
        except BrokenPipeError:  # output piped into `head` and the like
            return 0
        except Exception:
            traceback.print_exc()
            return 1
