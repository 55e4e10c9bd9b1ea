"""params.yaml is read as DVC reads it (YAML 1.2), not as PyYAML's YAML 1.1."""

from __future__ import annotations

import pytest
from dvc.utils.serialize import parse_yaml

from pipeline.yaml12 import YAMLSyntaxError, load_yaml

TEXT = """\
lr: 1e-3
lr_upper: 2.5E-4
plus: +1e5
yes_word: yes
on_word: on
zero_padded: 012
octal: 0o17
underscored: 1_000
flag: true
nothing: null
"""


def test_numbers_and_words_read_as_dvc_reads_them():
    values = load_yaml(TEXT)
    assert values == parse_yaml(TEXT, "params.yaml")
    assert values["lr"] == 0.001 and isinstance(values["lr"], float)
    assert values["plus"] == 100000.0 and values["yes_word"] == "yes" and values["zero_padded"] == 12


def test_a_key_given_twice_is_an_error_naming_the_line():
    with pytest.raises(YAMLSyntaxError, match='line 2, column 1: found duplicate key "lr"'):
        load_yaml("lr: 0.1\nlr: 0.2\n")
