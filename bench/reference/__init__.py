"""Reference ("typical public port") training steps, one module per model name.

``load(model_name)`` returns the module's ``Reference`` class:
``Reference(model)`` takes a freshly built pipeline model (a copy of its
networks is trained), ``batches(data, batch_size, seed)`` yields training
batches through a DataLoader, and ``step(x, y, step)`` runs one training
iteration and returns the logged losses as Python floats.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load(model_name: str) -> type:
    path = HERE / f"{model_name}.py"
    if not path.is_file():
        known = sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_") and p.stem != "common")
        raise KeyError(f"no reference implementation for model {model_name!r} (have: {', '.join(known)})")
    if str(HERE.parent.parent) not in sys.path:
        sys.path.insert(0, str(HERE.parent.parent))
    module = importlib.import_module(f"bench.reference.{model_name}")
    return module.Reference
