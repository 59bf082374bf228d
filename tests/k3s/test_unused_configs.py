"""config-host-unused: a configs entry that no mirror name and no mirror endpoint looks up (issue 11 item 17)."""

from __future__ import annotations

import pytest

from regui.k3s import lint

TLS = "    tls: {ca_file: /c}\n"


def _unused(text: str) -> list:
    return [f for f in lint(text) if f.code == "config-host-unused"]


def test_a_config_for_a_mirror_endpoints_host_is_used():
    assert _unused("mirrors:\n  docker.io:\n    endpoint: [https://m.io:5000]\nconfigs:\n  m.io:5000:\n" + TLS) == []


def test_a_config_named_after_a_mirror_is_used_by_its_server_line():
    assert _unused("mirrors:\n  quay.io:\n    endpoint: [https://m.io]\nconfigs:\n  quay.io:\n" + TLS + "  m.io:\n" + TLS) == []


@pytest.mark.parametrize("key", ["docker.io", "registry-1.docker.io"])
def test_docker_hubs_two_names_are_never_unused(key):
    # registry-1.docker.io is where docker.io is reached (its default endpoint and containerd's host
    # for Docker Hub credentials); docker.io is pulled from by name everywhere.
    assert _unused(f"configs:\n  {key}:\n    auth: {{username: u}}\n") == []


def test_an_endpoint_written_as_docker_io_uses_the_registry_1_config():
    assert _unused("mirrors:\n  quay.io:\n    endpoint: [docker.io]\nconfigs:\n  registry-1.docker.io:\n" + TLS) == []


def test_the_wildcard_config_is_left_to_the_wildcard_rules():
    assert _unused('configs:\n  "*":\n' + TLS) == []


@pytest.mark.parametrize("address", ["127.0.0.1:6443", "127.0.0.1:9345"])
def test_the_embedded_registrys_address_is_not_reported(address):
    assert _unused(f"configs:\n  '{address}':\n" + TLS) == []


def test_a_config_for_a_registry_pulled_by_name_is_only_information():
    (finding,) = _unused("configs:\n  registry.example.com:5000:\n" + TLS)
    assert finding.severity == "info" and finding.path == ("configs", "registry.example.com:5000")
    assert "registry.example.com:5000/<repository>" in finding.message


def test_a_config_no_image_can_name_is_a_warning():
    (finding,) = _unused("configs:\n  myregistry:\n" + TLS)
    assert finding.severity == "warning" and "nothing ever reads it" in finding.message


def test_the_hint_names_the_endpoint_on_the_same_host_with_another_port():
    (finding,) = _unused("mirrors:\n  docker.io:\n    endpoint: [https://m.io:5000]\nconfigs:\n  m.io:\n" + TLS)
    assert "`m.io:5000`" in finding.hint


def test_keys_k3s_cannot_use_are_left_to_invalid_registry_key():
    assert _unused("configs:\n  'https://m.io':\n" + TLS) == []
    assert _unused("configs:\n  'a b':\n" + TLS) == []
