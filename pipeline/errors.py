"""Errors a user can act on: each names the problem and the fix."""


class PipelineError(Exception):
    """Base class; the CLI prints these without a traceback and exits with code 2."""


class ConfigError(PipelineError):
    """params.yaml is malformed: names the key, the bad value and what is allowed."""


class DataError(PipelineError):
    """A dataset is missing, offline or corrupt: names the dataset, path and how to get it."""


class StaleRunListError(PipelineError):
    """runs.yaml no longer matches params.yaml."""
