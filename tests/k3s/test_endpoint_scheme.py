"""endpoint-no-scheme: an endpoint written without a scheme is told which one K3s picks (issue 11 item 17)."""

from __future__ import annotations

import pytest

from regui.k3s import lint


def _codes(endpoint: str) -> dict[str, object]:
    text = f"mirrors:\n  docker.io:\n    endpoint: ['{endpoint}']\n"
    return {f.code: f for f in lint(text) if f.path[-1:] == (0,)}


def test_a_host_without_a_scheme_is_said_to_get_https():
    finding = _codes("mirror.example.com")["endpoint-no-scheme"]
    assert finding.severity == "info" and "https://mirror.example.com/v2" in finding.message
    assert "https://mirror.example.com" in finding.hint and "http://mirror.example.com" in finding.hint


def test_loopback_on_another_port_is_said_to_get_http():
    finding = _codes("localhost:5000")["endpoint-no-scheme"]
    assert "http://localhost:5000/v2" in finding.message and "loopback" in finding.message


@pytest.mark.parametrize("endpoint", ["10.0.0.5:5000", "mirror.example.com:80"])
def test_where_plain_http_is_likely_only_that_warning_is_given(endpoint):
    codes = _codes(endpoint)
    assert "endpoint-plain-http-guess" in codes and "endpoint-no-scheme" not in codes


@pytest.mark.parametrize("endpoint", ["https://mirror.example.com", "http://mirror.example.com:5000", ""])
def test_an_endpoint_with_a_scheme_or_no_host_gets_none(endpoint):
    assert "endpoint-no-scheme" not in _codes(endpoint)
