"""AAN report section: the paper's claims, then per experiment its metric table,
samples and training curves (the generic layout of
:mod:`pipeline.report.sections.common`). API: :mod:`pipeline.report.context`."""

from __future__ import annotations

from pipeline.report.context import SectionContext
from pipeline.report.sections.common import generic


def render(ctx: SectionContext) -> str:
    return generic(ctx)
