"""Tabs that are not indentation: yaml.v2 (a port of libyaml) skips a tab wherever no simple key can
start (in flow context, after a scalar or a closing bracket) and reads tabs inside a plain scalar as its
whitespace. Only tabs used for indentation refuse the file (spec §1.2). PyYAML's own scanner skips
spaces alone and refused all of these."""

from __future__ import annotations

import pytest

from regui.k3s import generate_hosts, parse_registries


@pytest.mark.parametrize("line", [
    "    endpoint: [x.io]\t",
    "    endpoint: [x.io]\t# the mirror",
    "    endpoint:\n    - x.io\t",
    "    endpoint:\n    - x.io\t# the mirror",
    '    endpoint:\n    - "x.io"\t',
    "    endpoint: [\tx.io,\tx.io\t]",
    "    {endpoint: [x.io]}\t",
])
def test_a_tab_after_a_value_or_inside_brackets_is_whitespace(line):
    r = generate_hosts("mirrors:\n  a.io:\n" + line + "\n")
    assert r.parse_error is None
    assert [h["url"] for h in r.hosts_in_order["a.io"]] == ["https://x.io/v2", "https://a.io/v2"]


def test_a_tab_inside_a_plain_scalar_is_part_of_the_value():
    reg = parse_registries("configs:\n  a.io:\n    auth:\n      password: pass\tword\t\n")
    assert reg.configs["a.io"].auth is not None
    assert reg.configs["a.io"].auth.password == "pass\tword"


@pytest.mark.parametrize("text", ["mirrors:\n\ta.io: {}\n", "mirrors:\n  a.io:\n    endpoint:\n    -\tx.io\n",
                                  "mirrors:\n  a.io: {}\n\t\n"])
def test_a_tab_where_indentation_is_read_still_refuses_the_file(text):
    assert "found character that cannot start any token" in (generate_hosts(text).parse_error or "")


@pytest.mark.parametrize("header", ["|#comment", "|\t", "| \t# comment", "|-\t", ">2\t#"])
def test_a_block_scalar_header_may_end_in_tabs_or_a_comment_without_a_space(header):
    # libyaml skips blanks after the indicators, then a comment, then wants the line break.
    reg = parse_registries(f"configs:\n  a.io:\n    auth:\n      password: {header}\n        secret\n")
    assert reg.configs["a.io"].auth is not None
    assert reg.configs["a.io"].auth.password.strip() == "secret"


def test_a_block_scalar_header_followed_by_text_is_still_refused():
    assert generate_hosts("configs:\n  a.io:\n    auth:\n      password: |x\n        s\n").parse_error


# yaml.v2 scannerc.go: yaml_parser_fetch_value clears simple_key_allowed after a simple key, and
# yaml_parser_scan_to_next_token skips a tab only where simple_key_allowed is false (or in flow
# context); yaml_parser_fetch_block_entry and a complex key's ':' set it again.
@pytest.mark.parametrize("text", ["mirrors:\n  a.io:\n    endpoint:\t[x.io]\n",
                                  "mirrors:\n  a.io:\t# the mirror\n    endpoint: [x.io]\n",
                                  "mirrors:\n  a.io:\n    endpoint:\t\n    - x.io\n"])
def test_a_tab_after_a_keys_colon_is_whitespace(text):
    assert generate_hosts(text).hosts_in_order["a.io"][0]["url"] == "https://x.io/v2"


@pytest.mark.parametrize("text", ["mirrors:\n  a.io:\n    endpoint:\n    -\tx.io\n",
                                  "mirrors:\n  a.io:\n    endpoint:\n    - \tx.io\n",
                                  "mirrors:\n  a.io:\n    endpoint:\n    - x.io\n    -\t\n",
                                  "mirrors:\n  ? a.io\n  :\t{endpoint: [x.io]}\n"])
def test_a_tab_after_a_dash_or_a_complex_keys_colon_refuses_the_file(text):
    assert "found character that cannot start any token" in (generate_hosts(text).parse_error or "")


def test_a_block_sequence_after_a_keys_colon_and_a_tab_is_refused_in_libyamls_words():
    r = generate_hosts("mirrors:\n  a.io:\n    endpoint:\t- x.io\n")
    assert r.parse_error == "yaml: line 3: block sequence entries are not allowed in this context"
