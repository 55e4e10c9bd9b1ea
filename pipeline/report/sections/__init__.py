"""Report sections: one plug-in module per paper, ``sections/<paper>.py``.

Each module exposes ``render(ctx: SectionContext) -> str`` returning the
paper's markdown (without its ``##`` heading, which the framework writes, and
without the hyperparameter tables, which the framework appends). The context
API is documented in :mod:`pipeline.report.context`; reusable building blocks
(sample figures, training curves, metric tables) are in
:mod:`pipeline.report.sections.common`. ``gan.py`` is the worked example.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from pipeline.report.context import SectionContext


def renderer(paper: str) -> Callable[[SectionContext], str]:
    """The ``render`` function of ``sections/<paper>.py``."""
    return importlib.import_module(f"pipeline.report.sections.{paper}").render
