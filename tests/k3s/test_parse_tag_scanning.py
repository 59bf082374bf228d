"""Tags scanned as yaml.v2 v2.4.0 scans them (scannerc.go ``yaml_parser_scan_tag``).

libyaml reads a handle as "!", word characters ([0-9A-Za-z_-]) and a closing "!"; anything else after
the "!" is a local tag's suffix. A tag ends at a space, a tab or a line break. PyYAML took the first "!"
before a space as the end of a handle and wanted a space after the tag. Each expectation is what
yaml.v2 v2.4.0 gives for the same text.
"""

from __future__ import annotations

from regui.k3s import generate_hosts, parse_registries


def test_a_tab_after_a_tag_ends_it():
    reg = parse_registries("mirrors:\n  docker.io:\n  !re\tgistry.k8s.io:\n")
    assert list(reg.mirrors) == ["docker.io", "gistry.k8s.io"]
    assert parse_registries("mirrors:\n  a.io:\n    endpoint: [!!str\thttps://m.example.com]\n").mirrors[
        "a.io"].endpoints == ["https://m.example.com"]


def test_a_local_tag_with_a_dot_before_a_bang_is_a_tag_not_a_broken_handle():
    reg = parse_registries("mirrors:\n  a.io:\n    endpoint: [!a.b!c https://m.example.com]\n")
    assert reg.mirrors["a.io"].endpoints == ["https://m.example.com"]


def test_a_tag_followed_by_a_quote_is_refused_in_yaml_v2_words():
    assert generate_hosts('mirrors:\n  a.io:\n    endpoint: [!x"y"]\n').parse_error == (
        "yaml: line 3: did not find expected whitespace or line break")


def test_a_handle_without_a_suffix_is_refused_in_yaml_v2_words():
    assert generate_hosts("mirrors:\n  a.io:\n    endpoint: [!! x]\n").parse_error == (
        "yaml: line 3: did not find expected tag URI")
