"""A configs key that K3s's config.toml templates cannot quote.

K3s renders every configs entry that has an ``auth`` block into containerd's config.toml with the
key inserted verbatim (k3s-io/k3s pkg/agent/templates, ``range $k, $v :=
.PrivateRegistryConfig.Configs`` then ``{{ if $v.Auth }}``): inside a TOML literal string
``'<key>'`` in the config v3 template (containerd 2), inside a basic string ``"<key>"`` in the
legacy v2 one (containerd 1.7). A ``'`` breaks v3, a ``"`` or ``\\`` breaks (or renames) v2, a
control character breaks both; containerd then refuses config.toml and the node does not start.
"""

from __future__ import annotations

import pytest

from regui.k3s import lint


def _codes(text: str) -> dict[str, str]:
    return {f.code: f.message for f in lint(text)}


@pytest.mark.parametrize(("written", "templates"), [
    ('"it\'s.example.com"', ["config v3"]),
    ("'reg\"istry.io'", ["config v2"]),
    ("'reg\\istry.io'", ["config v2"]),
    ('"reg\\x01istry.io"', ["config v3", "config v2"]),
])
def test_a_configs_key_with_auth_that_breaks_config_toml_is_an_error_naming_the_template(written, templates):
    message = _codes(f"configs:\n  {written}:\n    auth: {{username: u}}\n")["configs-key-breaks-config-toml"]
    assert [t for t in ("config v3", "config v2") if t in message] == templates
    assert "containerd refuses to start" in message


def test_the_finding_points_at_the_key_and_is_an_error():
    [f] = [f for f in lint('mirrors:\n  x.io: {}\nconfigs:\n  "it\'s.io":\n    auth: {username: u}\n')
           if f.code == "configs-key-breaks-config-toml"]
    assert (f.severity, f.path, f.line) == ("error", ("configs", "it's.io"), 4)


def test_a_tab_is_allowed_in_both_kinds_of_toml_string():
    assert "configs-key-breaks-config-toml" not in _codes('configs:\n  "reg\\tistry.io":\n    auth: {username: u}\n')


def test_a_key_without_auth_is_not_written_to_config_toml():
    assert "configs-key-breaks-config-toml" not in _codes('configs:\n  "it\'s.io":\n    tls: {ca_file: /ca.pem}\n')


@pytest.mark.parametrize("key", ["registry.example.com:5000", "*", "[::1]:5000", "registry-1.docker.io"])
def test_ordinary_keys_are_fine(key):
    assert "configs-key-breaks-config-toml" not in _codes(f'configs:\n  "{key}":\n    auth: {{username: u}}\n')
