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


def endpoint_tagged(tag: str) -> str:
    return f"mirrors:\n  a.io:\n    endpoint: [{tag} https://m.example.com]\n"


def test_a_tags_escaped_octets_are_refused_in_yaml_v2_words_never_pythons():
    """scannerc.go yaml_parser_scan_uri_escapes: one UTF-8 character's octets, its leading octet saying how many."""
    said = {tag: generate_hosts(endpoint_tagged(tag)).parse_error for tag in ("!<%ff>", "!<%e3%41>", "!<%e3%80>", "!e%ff")}
    assert said == {"!<%ff>": "yaml: line 3: found an incorrect leading UTF-8 octet",
                    "!<%e3%41>": "yaml: line 3: found an incorrect trailing UTF-8 octet",
                    "!<%e3%80>": "yaml: line 3: did not find URI escaped octet",
                    "!e%ff": "yaml: line 3: found an incorrect leading UTF-8 octet"}
    assert generate_hosts("%TAG !e! tag:%ff\n---\nmirrors: {}\n").parse_error == (
        "yaml: found an incorrect leading UTF-8 octet")


def test_octets_of_the_right_shape_that_are_no_character_are_taken_as_yaml_v2_takes_them():
    # libyaml checks only the octets' high bits (an overlong NUL, a surrogate pass); the tag is unknown to it,
    # so the item decodes as the string it is.
    for tag in ("!<%C0%80>", "!<%ED%A0%80>", "!<tag:%E2%9C%93>"):
        assert parse_registries(endpoint_tagged(tag)).mirrors["a.io"].endpoints == ["https://m.example.com"]
