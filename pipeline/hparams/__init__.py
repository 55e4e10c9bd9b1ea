"""Typed hyperparameters with provenance.

Every model declares its hyperparameters as a frozen dataclass whose fields are
made with :func:`hp`. Each default carries where it comes from:

- ``paper``: stated in the paper (or its appendix);
- ``code``: read in the authors' official code;
- ``ours``: not published anywhere we could find, a default we chose.

``params.yaml`` overrides defaults per experiment; :func:`build` validates the
overrides (unknown keys, types, ranges) and :func:`provenance_table` reports
each value with its source so the report can label our choices as ours.

This module must not import torch: validation has to be fast.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

from pipeline.errors import ConfigError, did_you_mean

Source = Literal["paper", "code", "ours"]
SOURCES: tuple[str, ...] = ("paper", "code", "ours")

# Sanity bounds (ours), shared with pipeline/schema/params.schema.yaml: a step count above
# MAX_STEPS, a learning rate above MAX_LR or a seed outside [0, SEED_LIMIT) is a typo, not an
# experiment (10**8 steps is ~200x the longest published schedule here; torch.manual_seed takes
# 64-bit seeds and the sampling / learning-curve streams add offsets below 2**24).
MAX_STEPS = 10**8
MAX_LR = 10.0
SEED_LIMIT = 2**63


def hp(
    default: Any,
    source: Source,
    *,
    note: str = "",
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> Any:
    """A hyperparameter field: default value, its provenance and optional bounds."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    meta = {"source": source, "note": note, "gt": gt, "ge": ge, "le": le, "lt": lt}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        inner = _type_name(args[0]) if args else "any"
        return f"list of {inner}"
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against annotation ``tp``; ints are accepted for floats."""
    origin = typing.get_origin(tp)
    bad = ConfigError(f"{where} = {value!r}: expected {_type_name(tp)}")
    if tp is Any:
        return value
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise bad
        return value
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            try:
                return _coerce(value, arg, where)
            except ConfigError:
                continue
        raise bad
    if tp is type(None):
        if value is not None:
            raise bad
        return None
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise bad
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        inner = args[0] if args else Any
        items = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise bad
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise bad
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad
        return value
    raise TypeError(f"unsupported hyperparameter annotation {tp!r} at {where}")


def _check_bounds(value: Any, meta: Mapping[str, Any], where: str) -> None:
    values = value if isinstance(value, (list, tuple)) else [value]
    for v in values:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        for key, ok, word in (
            ("gt", lambda a, b: a > b, ">"),
            ("ge", lambda a, b: a >= b, ">="),
            ("lt", lambda a, b: a < b, "<"),
            ("le", lambda a, b: a <= b, "<="),
        ):
            bound = meta.get(key)
            if bound is not None and not ok(v, bound):
                raise ConfigError(f"{where} = {value!r}: must be {word} {bound}")


def build(cls: type, values: Mapping[str, Any] | None, where: str) -> Any:
    """Instantiate hyperparameter dataclass ``cls`` from ``values``, validating each key.

    ``where`` is the dotted params.yaml path used in error messages, e.g.
    ``experiments.gan_mnist.hparams``.
    """
    values = dict(values or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        named = ", ".join(f"{key}{did_you_mean(key, fields)}" for key in unknown)
        raise ConfigError(
            f"{where}: unknown key(s) {named} for {cls.__name__}; allowed: {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    checked = {}
    for name, value in values.items():
        key_where = f"{where}.{name}"
        value = _coerce(value, hints[name], key_where)
        _check_bounds(value, fields[name].metadata, key_where)
        checked[name] = value
    obj = cls(**checked)
    validate = getattr(obj, "validate", None)
    if callable(validate):
        try:
            validate()
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return obj


def provenance_table(obj: Any, overrides: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """One row per field: name, value, default, source; ``source`` becomes ``profile``
    when params.yaml overrides the default with a different value."""
    overrides = overrides or {}
    rows = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        overridden = f.name in overrides and value != default
        rows.append(
            {
                "name": f.name,
                "value": value,
                "default": default,
                "source": "profile" if overridden else f.metadata.get("source", "ours"),
                "default_source": f.metadata.get("source", "ours"),
                "note": f.metadata.get("note", ""),
            }
        )
    return rows


def as_dict(obj: Any) -> dict[str, Any]:
    """Plain-dict view of a hyperparameter dataclass (tuples become lists)."""
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out
