"""Errors a user can act on: each names the problem and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PipelineError(Exception):
    """Base class; the CLI prints these without a traceback and exits with code 2."""


class ConfigError(PipelineError):
    """params.yaml is malformed: names the key, the bad value and what is allowed."""


class DataError(PipelineError):
    """A dataset is missing, offline or corrupt: names the dataset, path and how to get it."""


class StaleRunListError(PipelineError):
    """runs.yaml no longer matches params.yaml."""


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """`` (did you mean X?)`` when one of ``choices`` is close to ``word`` (difflib), else ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
