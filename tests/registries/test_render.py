"""The renderer: data -> registries.yaml bytes (pure, no database)."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from regui.k3s import parse_registries
from regui.k3s.limits import MAX_PATTERN_CHARS
from regui.registries.render import (
    HEADER,
    AuthSpec,
    ConfigSpec,
    MirrorSpec,
    RegistriesSpec,
    TLSSpec,
    render_yaml,
    tls_dir,
)
from regui.registries.yamltext import scalar

TRICKY = [
    "yes", "Yes", "on", "OFF", "y", "n", "null", "Null", "~", "", "0123", "0x1F", "0o17", "1e3", "1_000",
    "12:30", "12:30:45", "2001-12-14", ".inf", "-.5", "+1", "a: b", "a #b", "-leading", "*", "&anchor",
    "!tag", "|", ">", "'q'", '"q"', "%x", "@x", "`x", "[a]", "{a}", "?x", "<<", "=", "true", "False",
    "trailing:", " padded ", "tab\there", "new\nline", "back\\slash", "é😀", "nul\0", "\u2028",
]


def test_it_quotes_every_string_a_yaml_reader_could_take_for_something_else():
    for s in TRICKY:
        out = scalar(s)
        assert out.startswith('"'), f"{s!r} was written plain as {out}"
        assert yaml.safe_load(f"k: {out}")["k"] == s


def test_it_writes_ordinary_hosts_urls_and_paths_plain():
    for s in ["docker.io", "registry.example.com:5000", "https://mirror.example.com:5000/v2",
              "/etc/ssl/ca.pem", "http://registry.local/path"]:
        assert scalar(s) == s


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_string_reads_back_as_the_same_string(s):
    assert yaml.safe_load(f"k: {scalar(s)}\n")["k"] == s


def _spec():
    return RegistriesSpec(
        mirrors=(
            MirrorSpec("docker.io", ("https://mirror.example.com:5000", "http://10.0.0.5:5000"),
                       (("^rancher/(.*)", "mirrorproject/rancher-images/$1"),)),
            MirrorSpec("registry.k8s.io"),
            MirrorSpec("*", ("https://catchall.example.com",)),
        ),
        configs=(
            ConfigSpec("mirror.example.com:5000",
                       AuthSpec(username="robot", password="on", secret_name="harbor"),
                       TLSSpec(ca_file="/etc/ssl/ca.pem", insecure_skip_verify=True)),
            ConfigSpec("*", None, TLSSpec(insecure_skip_verify=True)),
        ),
    )


def test_it_renders_the_k3s_schema_in_a_fixed_order():
    assert render_yaml(_spec()) == HEADER + (
        "mirrors:\n"
        "  docker.io:\n"
        "    endpoint:\n"
        "      - https://mirror.example.com:5000\n"
        "      - http://10.0.0.5:5000\n"
        "    rewrite:\n"
        "      \"^rancher/(.*)\": \"mirrorproject/rancher-images/$1\"\n"
        "  registry.k8s.io: {}\n"
        "  \"*\":\n"
        "    endpoint:\n"
        "      - https://catchall.example.com\n"
        "configs:\n"
        "  mirror.example.com:5000:\n"
        "    auth:\n"
        "      username: robot\n"
        "      password: \"on\"\n"
        "    tls:\n"
        "      ca_file: /etc/ssl/ca.pem\n"
        "      insecure_skip_verify: true\n"
        "  \"*\":\n"
        "    tls:\n"
        "      insecure_skip_verify: true\n"
    )


def test_it_is_deterministic():
    assert render_yaml(_spec()) == render_yaml(_spec())


def test_the_redacted_variant_names_the_secret_and_hides_the_value():
    text = render_yaml(_spec(), redact=True)
    assert '"on"' not in text
    assert "password: \"<redacted: password of secret harbor>\"" in text
    assert "username: robot" in text


def test_the_rendered_file_means_the_same_to_a_yaml_reader():
    data = yaml.safe_load(render_yaml(_spec()))
    assert data["mirrors"]["docker.io"]["endpoint"][1] == "http://10.0.0.5:5000"
    assert data["configs"]["mirror.example.com:5000"]["auth"]["password"] == "on"
    assert data["mirrors"]["registry.k8s.io"] == {}


def test_an_empty_configuration_is_an_empty_mapping():
    assert yaml.safe_load(render_yaml(RegistriesSpec())) == {}


def test_tls_material_lives_under_rancher_convention_paths():
    assert tls_dir("rke2", "harbor.example.com:443") == "/var/lib/rancher/rke2/etc/tls/registries/harbor.example.com:443"
    assert tls_dir("k3s", "*") == "/var/lib/rancher/k3s/etc/tls/registries/_default"


def test_a_rewrite_pattern_too_long_for_a_plain_yaml_key_is_written_as_an_explicit_key():
    # As written (quoted), 1024 characters is the longest key YAML readers take as `key: value`;
    # the longest pattern regui keeps is longer than that once quoted.
    for quoted_length in (1024, 1025, MAX_PATTERN_CHARS + 2):
        pattern = "^" + "a" * (quoted_length - 3)
        text = render_yaml(RegistriesSpec(mirrors=(MirrorSpec("docker.io", ("https://m.example.com",),
                                                              ((pattern, "x/$1"), ("^b/(.*)", "y/$1"))),)))
        assert text.count("? ") == (quoted_length > 1024)
        assert parse_registries(text).mirrors["docker.io"].rewrites == {pattern: "x/$1", "^b/(.*)": "y/$1"}
