"""YAML directives and escapes as yaml.v2 (v2.4.0, what wharfie v0.7.1 decodes registries.yaml with) reads them.

libyaml's Go port is stricter than PyYAML here: parserc.go ``yaml_parser_process_directives`` accepts only
``%YAML 1.1`` ("found incompatible YAML document" for any other version), scannerc.go
``yaml_parser_scan_directive`` refuses any directive but YAML and TAG ("found unknown directive name"), and
``yaml_parser_scan_flow_scalar`` refuses a ``\\u``/``\\U`` escape of a surrogate or beyond U+10FFFF. Each of
these stops the agent from loading its configuration, so regui must refuse them too.
"""

from __future__ import annotations

import pytest

from regui.k3s import generate_hosts, lint, parse_registries
from regui.k3s.model import RegistriesParseError

_BODY = "mirrors:\n  docker.io:\n    endpoint: [https://mirror.example.com]\n"


@pytest.mark.parametrize("version", ["1.2", "1.0", "1.3"])
def test_a_yaml_directive_other_than_1_1_makes_k3s_refuse_the_file(version):
    r = generate_hosts(f"%YAML {version}\n---\n{_BODY}")
    assert r.parse_error == "yaml: found incompatible YAML document"
    assert r.hosts_dirs == {}


def test_the_yaml_1_1_directive_is_accepted():
    assert parse_registries(f"%YAML 1.1\n---\n{_BODY}").mirrors["docker.io"].endpoints == [
        "https://mirror.example.com"]


def test_an_unknown_directive_makes_k3s_refuse_the_file():
    assert generate_hosts(f"%FOO bar\n---\n{_BODY}").parse_error == "yaml: found unknown directive name"


def test_an_unknown_directive_after_a_comment_line_is_reported_on_its_line():
    assert generate_hosts(f"# registries\n%FOO bar\n---\n{_BODY}").parse_error == (
        "yaml: line 2: found unknown directive name")


def test_a_repeated_yaml_directive_is_refused_in_yaml_v2_words():
    assert generate_hosts(f"%YAML 1.1\n%YAML 1.1\n---\n{_BODY}").parse_error == (
        "yaml: line 1: found duplicate %YAML directive")


def test_a_repeated_tag_directive_is_refused_in_yaml_v2_words():
    text = f"%TAG !x! tag:a,2000:\n%TAG !x! tag:b,2000:\n---\n{_BODY}"
    assert generate_hosts(text).parse_error == "yaml: line 1: found duplicate %TAG directive"


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\U00110000"])
def test_an_escape_of_a_surrogate_or_beyond_unicode_is_refused_not_an_internal_error(escape):
    text = f'mirrors:\n  a.io:\n    endpoint: ["https://x{escape}.example.com"]\n'
    with pytest.raises(RegistriesParseError) as e:
        parse_registries(text)
    assert e.value.message == "yaml: line 3: found invalid Unicode character escape code"
    assert [f.code for f in lint(text)] == ["parse-error"]


@pytest.mark.parametrize(("escape", "problem"), [("\\q", "found unknown escape character"),
                                                 ("\\x4", "did not find expected hexdecimal number")])
def test_a_bad_escape_is_refused_in_yaml_v2_words(escape, problem):
    text = f'mirrors:\n  a.io:\n    endpoint: ["https://x{escape}"]\n'
    assert generate_hosts(text).parse_error == f"yaml: line 3: {problem}"


def test_a_control_character_is_refused_in_yaml_v2_words():
    assert generate_hosts("mirrors:\n  a.io:\n    endpoint: [\x01]\n").parse_error == (
        "yaml: control characters are not allowed")


def test_an_escaped_slash_as_json_writes_it_is_refused():
    # YAML 1.2 (and PyYAML) read "\/" as "/"; yaml.v2's scanner has no such escape.
    text = 'mirrors:\n  docker.io:\n    endpoint: ["https:\\/\\/mirror.example.com"]\n'
    assert generate_hosts(text).parse_error == "yaml: line 3: found unknown escape character"


def test_an_escaped_single_quote_in_a_double_quoted_string_is_a_quote():
    auth = parse_registries('configs:\n  a.io:\n    auth: {password: "x\\\'y"}\n').configs["a.io"].auth
    assert auth is not None and auth.password == "x'y"


def test_tabs_separate_a_directive_from_its_value_and_its_comment():
    reg = parse_registries(f"%YAML\t1.1\t# v\n%TAG\t!e!\ttag:example.com,2000:\n---\n{_BODY}")
    assert reg.mirrors["docker.io"].endpoints == ["https://mirror.example.com"]


@pytest.mark.parametrize(("line", "problem"), [
    ("%", "could not find expected directive name"),
    ("%YA.ML 1.1", "found unexpected non-alphabetical character"),
    ("%YAML x", "did not find expected version number"),
    ("%YAML 1", "did not find expected digit or '.' character"),
    ("%YAML 1.1.1", "did not find expected comment or line break"),
    ("%YAML 1234567890.1", "found extremely long version number"),
    ("%TAG x tag:a", "did not find expected '!'"),
    ("%TAG !x tag:a", "did not find expected '!'"),
    ("%TAG !x!tag:a", "did not find expected whitespace"),
])
def test_a_malformed_directive_is_refused_in_yaml_v2_words(line, problem):
    assert generate_hosts(f"# registries\n{line}\n---\n{_BODY}").parse_error == f"yaml: line 2: {problem}"
