"""'?' and ':' inside flow collections ([...] and {...}), as yaml.v2 v2.4.0's scanner reads them.

yaml.v2 scannerc.go:
- ``yaml_parser_fetch_next_token``: in flow context a '?' always starts an explicit key (no blank
  needed after it), and ':' is always a value indicator where a token starts.
- ``yaml_parser_scan_plain_scalar``: in flow context ',', '?', '[', ']', '{' and '}' end a plain
  scalar; ':' ends it only before a blank or a line break. PyYAML 6 also ends it at ':' before
  ',', '[', ']', '{' or '}'; yaml.v2 keeps that ':' in the text (``[x.io:]`` is "x.io:").
"""

from __future__ import annotations

import pytest

from regui.k3s import generate_hosts, parse_registries


def _mirror(flow: str) -> str:
    return f"mirrors:\n  a.io:\n    {flow}\n"


def test_a_question_mark_opening_a_flow_item_makes_it_a_single_pair_mapping():
    assert generate_hosts(_mirror("endpoint: [?x.io]")).parse_error == (
        "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!map into string")


@pytest.mark.parametrize(("flow", "closing"), [("endpoint: [x?y]", "]"), ('endpoint: ["x.io"?]', "]"),
                                               ("rewrite: {^a?b: c}", "}"), ('rewrite: {"^a": b?c}', "}")])
def test_a_question_mark_inside_a_flow_plain_scalar_ends_it_and_refuses_the_file(flow, closing):
    # The problem is on line 3; yaml.v2 numbers a parser error's line from 0 (see test_parse_error_lines.py).
    r = generate_hosts(_mirror(flow))
    assert (r.parse_error, r.parse_error_line) == (f"yaml: line 2: did not find expected ',' or '{closing}'", 3)


def test_an_explicit_key_in_a_flow_mapping_is_a_key():
    assert parse_registries(_mirror('rewrite: {? "^a": b}')).mirrors["a.io"].rewrites == {"^a": "b"}


def test_an_explicit_key_without_a_value_is_null():
    reg = parse_registries("mirrors:\n  a.io: {endpoint: [x.io], ? rewrite}\n")
    assert (reg.mirrors["a.io"].endpoints, reg.mirrors["a.io"].rewrites) == (["x.io"], {})


def test_a_question_mark_in_a_block_plain_scalar_is_text():
    assert parse_registries(_mirror("endpoint:\n    - x.io/?a")).mirrors["a.io"].endpoints == ["x.io/?a"]


@pytest.mark.parametrize(("flow", "expected"), [("endpoint: [x.io:]", ["x.io:"]),
                                                ("endpoint: [x.io:,y.io]", ["x.io:", "y.io"]),
                                                ("endpoint: [x.io:5000]", ["x.io:5000"])])
def test_a_colon_before_a_flow_indicator_stays_in_the_item(flow, expected):
    assert parse_registries(_mirror(flow)).mirrors["a.io"].endpoints == expected


def test_a_colon_before_a_closing_brace_stays_in_the_value():
    assert parse_registries(_mirror("rewrite: {^a: x:}")).mirrors["a.io"].rewrites == {"^a": "x:"}
