"""A byte order mark (U+FEFF) inside registries.yaml, read as yaml.v2 reads it.

yaml.v2 scannerc.go ``yaml_parser_scan_to_next_token``: "Allow the BOM mark to start a line" --
a BOM at column 0 of any line is skipped, and ``skip()`` counts it as a column, so that line's
content is one column deeper. readerc.go drops only the stream's first BOM before columns count.
Anywhere else a BOM is an ordinary character (plain scalars keep it).
"""

from __future__ import annotations

from regui.k3s import generate_hosts, parse_registries


def test_a_bom_that_starts_the_file_is_dropped():
    assert parse_registries("\ufeffmirrors:\n  a.io:\n    endpoint: [x.io]\n").mirrors["a.io"].endpoints == ["x.io"]


def test_a_bom_before_a_top_level_key_indents_it_and_k3s_refuses_the_file():
    # "configs" lands at column 1: a new block mapping where the top-level one wants its next key.
    r = generate_hosts("mirrors:\n  a.io: {}\n\ufeffconfigs:\n  b.io:\n    auth: {username: u}\n")
    assert r.parse_error == "yaml: line 3: did not find expected key"


def test_a_bom_that_starts_an_indented_line_counts_as_one_column_of_indentation():
    reg = parse_registries("mirrors:\n  a.io:\n\ufeff   endpoint: [x.io]\n\ufeff b.io: {}\n")
    assert reg.mirrors["a.io"].endpoints == ["x.io"]
    assert "b.io" in reg.mirrors


def test_a_bom_after_the_indentation_is_part_of_the_key():
    reg = parse_registries("mirrors:\n  \ufeffa.io: {}\n")
    assert list(reg.mirrors) == ["\ufeffa.io"]


def test_a_bom_inside_a_value_is_kept():
    auth = parse_registries("configs:\n  a.io:\n    auth: {password: pa\ufeffss}\n").configs["a.io"].auth
    assert auth is not None and auth.password == "pa\ufeffss"
