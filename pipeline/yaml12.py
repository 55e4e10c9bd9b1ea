"""YAML as DVC reads it: YAML 1.2, with the same parser (ruamel.yaml's safe loader).

PyYAML implements YAML 1.1, where ``lr: 1e-3`` is the *string* "1e-3", ``on`` is
``True`` and ``012`` is octal 10; DVC (hence ``dvc params diff``, ``dvc exp run
--set-param`` and the values it templates into dvc.yaml) reads YAML 1.2, where they
are the float 0.001, the string "on" and the integer 12. Every params, schema and
claims file the pipeline reads goes through :func:`load_yaml`, so the pipeline,
DVC and the Snakefile see the same values. A key given twice is an error here (as
in DVC), never a silent "last one wins".
"""

from __future__ import annotations

from typing import Any


class YAMLSyntaxError(ValueError):
    """The text is not valid YAML 1.2 (the message says where)."""


def load_yaml(text: str) -> Any:
    """Parse ``text`` as YAML 1.2 into plain dicts, lists and scalars."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise YAMLSyntaxError(_where_and_what(exc)) from None


def _where_and_what(exc: Exception) -> str:
    """'line L, column C: problem' (ruamel's text also suggests turning checks off)."""
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is None or not problem:
        return str(exc)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"

