"""A byte order mark (U+FEFF) inside registries.yaml, read as yaml.v2 v2.4.0 reads it.

readerc.go drops the stream's first BOM before any column is counted. scannerc.go
``yaml_parser_scan_to_next_token`` means to skip a BOM that starts a line, but ``is_bom``
(yamlprivateh.go) reads the first bytes of the decoding buffer, not the ones at the position it is
given: a BOM that starts a later line is an ordinary character, part of the key or value it starts.
The buffer itself starts with a BOM when the file starts with two; then, within the first 512 bytes
the reader decodes, yaml.v2 skips the first character of every line, whatever it is.
Each expectation below is what yaml.v2 v2.4.0 decodes from the same text.
"""

from __future__ import annotations

from regui.k3s import generate_hosts, lint, parse_registries


def test_a_bom_that_starts_the_file_is_dropped():
    assert parse_registries("\ufeffmirrors:\n  a.io:\n    endpoint: [x.io]\n").mirrors["a.io"].endpoints == ["x.io"]


def test_a_bom_before_a_top_level_key_is_part_of_it_so_k3s_ignores_the_section():
    # What `cat a.yaml b.yaml` gives when both files start with a BOM: K3s starts, without these credentials.
    text = "mirrors:\n  a.io: {}\n\ufeffconfigs:\n  b.io:\n    auth: {username: u}\n"
    r = generate_hosts(text)
    assert r.parse_error is None and r.cri_auth == {}
    reg = parse_registries(text)
    assert reg.configs == {} and reg.ignored_keys == ["\ufeffconfigs"]
    assert [f.path for f in lint(text) if f.code == "unknown-key"] == [("\ufeffconfigs",)]


def test_a_bom_that_starts_an_indented_line_makes_it_a_top_level_key():
    reg = parse_registries("mirrors:\n  a.io:\n\ufeff   endpoint: [x.io]\n\ufeff b.io: {}\n")
    assert reg.mirrors["a.io"].endpoints == []
    assert reg.ignored_keys == ["\ufeff   endpoint", "\ufeff b.io"]


def test_a_file_that_starts_with_two_boms_loses_the_first_character_of_each_line():
    # Each line is one column shallower, the same for all: the mapping reads as written.
    reg = parse_registries("\ufeff\ufeffmirrors:\n  docker.io:\n    endpoint: [x.io]\n")
    assert reg.mirrors["docker.io"].endpoints == ["x.io"]
    # ... but a top-level key loses its first letter, and "b: 2" becomes ": 2".
    assert parse_registries("\ufeff\ufeffmirrors: {}\nxconfigs:\n  a.io: {auth: {username: u}}\n").configs[
        "a.io"].auth is not None
    assert generate_hosts("\ufeff\ufeffa: 1\nb: 2\n").parse_error == "yaml: line 1: did not find expected key"


def test_two_boms_skip_line_starts_only_within_the_first_512_bytes():
    head = "\ufeff\ufeffmirrors:\n" + "".join(f"  r{i:03}.example.com: {{}}\n" for i in range(30))
    assert len(head.encode()) > 512
    reg = parse_registries(head + "configs:\n  a.io: {auth: {username: u}}\n")
    # Past them "configs" keeps its first letter at column 0, left of the file's top level (column 1): a
    # second YAML document, which K3s never reads.
    assert len(reg.mirrors) == 30 and reg.configs == {}


def test_a_bom_after_the_indentation_is_part_of_the_key():
    reg = parse_registries("mirrors:\n  \ufeffa.io: {}\n")
    assert list(reg.mirrors) == ["\ufeffa.io"]


def test_a_bom_inside_a_value_is_kept():
    auth = parse_registries("configs:\n  a.io:\n    auth: {password: pa\ufeffss}\n").configs["a.io"].auth
    assert auth is not None and auth.password == "pa\ufeffss"


def test_lint_names_the_invisible_bom_at_the_start_of_an_ignored_key():
    text = "mirrors:\n  a.io: {}\n\ufeffconfigs:\n  b.io:\n    auth: {username: u}\n"
    [f] = [f for f in lint(text) if f.code == "unknown-key"]
    assert "`configs` with an invisible byte order mark (U+FEFF) before it" in f.message
    assert f.hint.startswith("Delete the byte order mark before `configs`") and f.line == 3
