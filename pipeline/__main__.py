"""Command line: ``python -m pipeline <verb> ...``. Every pipeline stage is one verb
with explicit input and output paths; dvc.yaml and the Snakefile call these."""

from __future__ import annotations

import sys

from pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
