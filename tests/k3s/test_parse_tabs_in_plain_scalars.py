"""Tabs in a plain scalar's continuation lines, as yaml.v2 v2.4.0 reads them (scannerc.go
``yaml_parser_scan_plain_scalar``): after a line break a tab is a blank like a space once the line is
indented past the scalar's indentation; before that, "found a tab character that violates indentation".
PyYAML ended the scalar at any such tab and refused the file. Each expectation is what yaml.v2 v2.4.0
gives for the same text.
"""

from __future__ import annotations

import pytest

from regui.k3s import generate_hosts, parse_registries


def _password(text: str) -> str:
    auth = parse_registries(text).configs["b.io"].auth
    assert auth is not None
    return auth.password


@pytest.mark.parametrize("continuation", ["        \tss", "       \tss"])
def test_a_tab_after_the_indentation_of_a_continuation_line_is_a_blank(continuation):
    assert _password(f"configs:\n  b.io:\n    auth:\n      password: pa\n{continuation}\n") == "pa ss"


def test_a_tab_after_a_blank_continuation_line_keeps_the_line_break():
    assert _password("configs:\n  b.io:\n    auth:\n      password: pa\n\n        \tss\n") == "pa\nss"


def test_a_tab_continuing_an_endpoint_in_a_block_sequence_is_a_blank():
    assert parse_registries("mirrors:\n  a.io:\n    endpoint:\n    - x\n      \ty\n").mirrors["a.io"].endpoints == ["x y"]


@pytest.mark.parametrize(("text", "line"), [
    ("configs:\n  b.io:\n    auth:\n      password: pa\n\t        ss\n", 5),
    ("configs:\n  b.io:\n    auth:\n      password: pa\n      \tss\n", 5),
    ("mirrors:\n  a.io:\n    endpoint: [x\n\ty]\n", 4),
])
def test_a_tab_within_the_indentation_is_refused_in_yaml_v2_words(text, line):
    assert generate_hosts(text).parse_error == f"yaml: line {line}: found a tab character that violates indentation"


@pytest.mark.parametrize("text", [
    "configs:\n  b.io:\n    auth:\n      password: >\n        pa\n       \tss\n",
    "configs:\n  b.io:\n    auth:\n      password: |\n\tpa\n",
])
def test_a_tab_in_a_block_scalars_indentation_is_refused_in_yaml_v2_words(text):
    assert (generate_hosts(text).parse_error or "").endswith("found a tab character where an indentation space is expected")
