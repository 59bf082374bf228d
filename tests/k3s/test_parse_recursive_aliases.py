"""An alias inside the node it names, decoded as yaml.v2 v2.4.0 decodes it (decode.go ``alias``).

yaml.v2 refuses only when decoding an alias that is already being decoded ("anchor 'NAME' value contains
itself"), checked before the alias's value is looked at. An alias under a key the schema does not have is
never decoded, so the file is read. Each expectation is what yaml.v2 v2.4.0 gives for the same text.
"""

from __future__ import annotations

from regui.k3s import generate_hosts, parse_registries


def test_a_recursive_alias_under_a_key_the_mirror_does_not_have_is_never_decoded():
    reg = parse_registries("mirrors: &a\n  a.io: *a\n")
    assert list(reg.mirrors) == ["a.io"] and reg.mirrors["a.io"].endpoints == []


def test_a_recursive_alias_under_an_unknown_top_level_key_is_never_decoded():
    reg = parse_registries("x: &a {y: *a}\nmirrors:\n  a.io: {endpoint: [b.io]}\n")
    assert reg.mirrors["a.io"].endpoints == ["b.io"]


def test_an_alias_decoded_inside_itself_is_refused_with_its_anchor_name():
    for text in ("mirrors:\n  a.io: &m\n    rewrite: *m\n", "mirrors:\n  a.io: &m\n    endpoint: [b.io]\n    rewrite: *m\n"):
        assert generate_hosts(text).parse_error == "yaml: anchor 'm' value contains itself"


def test_the_refusal_comes_before_the_type_error_of_the_value():
    # rewrite's value is the mapping itself: its own "rewrite" value is the alias again, which yaml.v2
    # refuses before it would find a mapping where a string goes.
    r = generate_hosts("configs:\n  a.io: &c\n    auth: *c\n")
    assert r.parse_error == "yaml: anchor 'c' value contains itself"
