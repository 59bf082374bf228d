"""registries.yaml decoding quirks of gopkg.in/yaml.v2 as K3s uses it."""

from __future__ import annotations

import pytest

from regui.k3s import RegistriesParseError, parse_registries


def _err(text: str) -> RegistriesParseError:
    with pytest.raises(RegistriesParseError) as exc:
        parse_registries(text)
    return exc.value


def test_it_keeps_the_original_text_of_scalars_in_string_fields():
    reg = parse_registries("configs:\n  h:\n    auth:\n      username: 0x1F\n      password: 0123\n"
                           "      auth: 12:30\n      identity_token: 1e3\n  i:\n    auth:\n      password: true\n")
    a = reg.configs["h"].auth
    assert (a.username, a.password, a.auth, a.identity_token) == ("0x1F", "0123", "12:30", "1e3")
    assert reg.configs["i"].auth.password == "true"


@pytest.mark.parametrize("word", ["yes", "on", "true", "True", "y"])
def test_it_accepts_yaml11_truthy_words_for_insecure_skip_verify(word):
    reg = parse_registries(f"configs:\n  h:\n    tls:\n      insecure_skip_verify: {word}\n")
    assert reg.configs["h"].tls.insecure_skip_verify is True


@pytest.mark.parametrize("word", ["no", "off", "false"])
def test_it_accepts_yaml11_falsy_words_for_insecure_skip_verify(word):
    reg = parse_registries(f"configs:\n  h:\n    tls:\n      insecure_skip_verify: {word}\n")
    assert reg.configs["h"].tls.insecure_skip_verify is False


def test_it_rejects_a_quoted_true_for_a_bool_field():
    e = _err('configs:\n  h:\n    tls:\n      insecure_skip_verify: "true"\n')
    assert e.message == "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `true` into bool"
    assert e.line == 4


def test_it_rejects_a_scalar_endpoint_with_yaml_v2s_message():
    e = _err("mirrors:\n  docker.io:\n    endpoint: https://registry.example.com\n")
    assert e.message == "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!str `https:/...` into []string"


def test_it_collects_every_type_error_in_one_message():
    e = _err("mirrors:\n  a:\n    endpoint: x\n  b:\n    rewrite: [1]\n")
    assert e.message.count("\n  line ") == 2
    assert "into map[string]string" in e.message


def test_it_refuses_tabs_used_for_indentation():
    assert "line 2" in _err("mirrors:\n\tdocker.io: {}\n").message


def test_it_refuses_an_unquoted_star_key():
    assert _err("mirrors:\n  *:\n    endpoint: [a]\n").message.startswith("yaml: line 2:")


def test_it_ignores_unknown_and_miscased_keys_and_records_them():
    reg = parse_registries("Mirrors: {}\nmirrors:\n  docker.io:\n    endpoints: [a]\n"
                           "configs:\n  h:\n    auth:\n      token: t\nauths: {}\n")
    assert reg.ignored_keys == ["Mirrors", "mirrors.docker.io.endpoints", "configs.h.auth.token", "auths"]


def test_a_null_or_empty_mirror_is_a_mirror_without_endpoints():
    reg = parse_registries("mirrors:\n  docker.io:\n  quay.io: ~\n")
    assert list(reg.mirrors) == ["docker.io", "quay.io"]
    assert reg.mirrors["quay.io"].endpoints == []


def test_the_last_duplicate_key_wins():
    reg = parse_registries("mirrors:\n  a:\n    endpoint: [x]\n  a:\n    endpoint: [y]\n")
    assert reg.mirrors["a"].endpoints == ["y"]


def test_anchors_and_merge_keys_work():
    reg = parse_registries("base: &b\n  endpoint: [https://m]\nmirrors:\n  a: *b\n  c:\n    <<: *b\n"
                           "    rewrite: {x: y}\n")
    assert reg.mirrors["a"].endpoints == ["https://m"]
    assert reg.mirrors["c"].endpoints == ["https://m"]
    assert reg.mirrors["c"].rewrites == {"x": "y"}


def test_a_merge_of_a_scalar_is_a_hard_error():
    assert "map merge requires" in _err("x: &s 1\nmirrors:\n  <<: *s\n").message


def test_a_self_referencing_anchor_is_an_error_not_a_hang():
    assert _err("mirrors:\n  x: &a\n    <<: *a\n").message == "yaml: anchor 'a' value contains itself"


def test_auth_null_means_no_auth_but_an_empty_mapping_means_auth():
    reg = parse_registries("configs:\n  a:\n    auth: null\n  b:\n    auth: {}\n")
    assert reg.configs["a"].auth is None
    assert reg.configs["b"].auth is not None


def test_an_empty_file_is_an_empty_configuration():
    reg = parse_registries("# only a comment\n")
    assert reg.mirrors == {} and reg.configs == {}


def test_only_the_first_document_is_read():
    reg = parse_registries("mirrors:\n  a: {}\n---\nmirrors:\n  b: {}\n")
    assert list(reg.mirrors) == ["a"]


def test_non_text_input_is_a_parse_error():
    with pytest.raises(RegistriesParseError):
        parse_registries(12)  # type: ignore[arg-type]


def test_a_repeated_mirrors_key_merges_and_a_later_null_clears():
    reg = parse_registries("mirrors:\n  a: {}\nmirrors:\n  b: {}\n")
    assert list(reg.mirrors) == ["a", "b"]
    assert parse_registries("mirrors:\n  a: {}\nmirrors: ~\n").mirrors == {}


def test_repeated_rewrite_keys_in_one_mirror_merge_like_yaml_v2():
    reg = parse_registries("mirrors:\n  a:\n    rewrite: {x: '1'}\n    rewrite: {y: '2'}\n")
    assert reg.mirrors["a"].rewrites == {"x": "1", "y": "2"}
