"""Quoted booleans and explicit tags, decoded as gopkg.in/yaml.v2 v2.4.0 decodes them (wharfie v0.7.1).

Read from yaml.v2's source (vendored at kubernetes/kubernetes vendor/gopkg.in/yaml.v2):
- decode.go ``decoder.scalar``: a quoted scalar with no tag is a !!str and is never resolved; a bool
  field takes only a resolved bool, anything else is a type error ("cannot unmarshal !!str `yes`
  into bool"), collected with the others, not fatal.
- resolve.go ``resolve``: an explicit !!str/!!bool/!!int/!!float/!!null/!!timestamp tag whose text
  resolves to another type fails the whole decode ("cannot decode !!str `maybe` as a !!bool");
  any other tag (``resolvableTag`` false: !!map on a scalar, !custom) leaves the text as it is.
- decode.go ``parser.mapping``/``parser.sequence`` keep no tag: !!null, !!seq or !!map written on a
  collection changes nothing.
- decode.go ``prepare``: a pointer field (auth, tls) is left nil only for !!null, null, ~ or nothing;
  a quoted "null" is then a type error naming the pointer type.
"""

from __future__ import annotations

import pytest

from regui.k3s import generate_hosts, lint, parse_registries
from regui.k3s.model import RegistriesParseError


def _tls(value: str) -> str:
    return f"configs:\n  a.io:\n    tls:\n      insecure_skip_verify: {value}\n"


def _refusal(text: str) -> str:
    with pytest.raises(RegistriesParseError) as e:
        parse_registries(text)
    return e.value.message


@pytest.mark.parametrize("value", ['"yes"', "'true'", '"on"', "|-\n        true"])
def test_a_quoted_yes_for_insecure_skip_verify_is_a_type_error_as_in_yaml_v2(value):
    word = value.strip("\"'|-\n ")
    assert _refusal(_tls(value)) == f"yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `{word}` into bool"


def test_a_quoted_yes_is_said_as_a_refusal_by_lint_and_preview_never_a_crash():
    text = _tls('"yes"')
    assert generate_hosts(text).parse_error == "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `yes` into bool"
    [finding] = lint(text)
    assert finding.code == "parse-error" and finding.line == 4


@pytest.mark.parametrize(("value", "expected"), [("!!bool \"yes\"", True), ("!!bool off", False), ("yes", True),
                                                 ("~", False), ("!!null", False)])
def test_a_bool_tag_on_a_quoted_word_makes_it_a_bool(value, expected):
    tls = parse_registries(_tls(value)).configs["a.io"].tls
    assert tls is not None and tls.insecure_skip_verify is expected


@pytest.mark.parametrize(("value", "message"), [
    ("!!bool maybe", "yaml: cannot decode !!str `maybe` as a !!bool"),
    ("!!null yes", "yaml: cannot decode !!bool `yes` as a !!null"),
    ("!!int yes", "yaml: cannot decode !!bool `yes` as a !!int"),
    ("!!bool ~", "yaml: cannot decode !!null `~` as a !!bool"),
    ("!!int 2001-01-01", "yaml: cannot decode !!str `2001-01-01` as a !!int"),
])
def test_a_tag_its_text_does_not_resolve_to_refuses_the_whole_file(value, message):
    assert _refusal(_tls(value)) == message


@pytest.mark.parametrize(("value", "tag"), [("!!str yes", "!!str"), ("!!float 1", "!!float"), ("! yes", "!"),
                                            ("!custom true", "!custom")])
def test_a_tag_that_is_not_a_bool_is_a_type_error_naming_that_tag(value, tag):
    word = value.split()[1]
    assert _refusal(_tls(value)) == f"yaml: unmarshal errors:\n  line 4: cannot unmarshal {tag} `{word}` into bool"


@pytest.mark.parametrize("where", ["mirrors:\n  a.io: !!null oops\n",
                                   "configs:\n  a.io:\n    auth: !!null oops\n",
                                   "configs:\n  a.io:\n    auth:\n      username: !!null oops\n"])
def test_an_explicit_null_tag_on_text_refuses_the_file(where):
    assert _refusal(where) == "yaml: cannot decode !!str `oops` as a !!null"


def test_an_explicit_null_tag_on_nothing_is_null():
    reg = parse_registries("mirrors:\n  a.io: !!null\nconfigs:\n  b.io:\n    auth: !!null\n    tls: !!null ~\n")
    assert reg.mirrors["a.io"].endpoints == []
    assert reg.configs["b.io"].auth is None and reg.configs["b.io"].tls is None


@pytest.mark.parametrize("tag", ["!!null", "!!map", "!!seq", "!!str", "!custom"])
def test_a_tag_on_a_mapping_is_ignored(tag):
    reg = parse_registries(f"configs:\n  a.io:\n    auth: {tag} {{username: u}}\n"
                           f"mirrors:\n  b.io: {tag}\n    endpoint: {tag} [x.io]\n")
    auth = reg.configs["a.io"].auth
    assert auth is not None and auth.username == "u"
    assert reg.mirrors["b.io"].endpoints == ["x.io"]


@pytest.mark.parametrize("tag", ["!!map", "!!seq", "!!merge", "!custom", "!"])
def test_a_tag_yaml_v2_cannot_resolve_leaves_a_strings_text_as_written(tag):
    auth = parse_registries(f"configs:\n  a.io:\n    auth: {{username: {tag} ~, password: {tag} yes}}\n"
                            ).configs["a.io"].auth
    assert auth is not None and (auth.username, auth.password) == ("~", "yes")


def test_a_quoted_null_for_auth_is_a_type_error_naming_the_pointer():
    assert _refusal('configs:\n  a.io:\n    auth: "null"\n') == (
        "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!str `null` into *registries.AuthConfig")


def test_a_merge_key_after_a_bare_tag_still_merges():
    reg = parse_registries("base: &b {endpoint: [x.io]}\nmirrors:\n  a.io:\n    ! <<: *b\n")
    assert reg.mirrors["a.io"].endpoints == ["x.io"]
