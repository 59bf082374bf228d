"""Endpoint normalisation (K3s normalizeEndpointAddress on Go net/url)."""

from __future__ import annotations

import pytest

from regui.k3s.gostrings import go_quote
from regui.k3s.urls import URLError, is_localhost, normalize_endpoint_address


@pytest.mark.parametrize(("endpoint", "url", "override"), [
    ("docker.io", "https://registry-1.docker.io/v2", False),
    ("https://registry.example.com", "https://registry.example.com/v2", False),
    ("registry.example.com/", "https://registry.example.com/v2", False),
    ("https://registry.example.com/v2", "https://registry.example.com/v2", False),
    ("https://registry.example.com/v2/", "https://registry.example.com/v2/", True),
    ("https://h/prefix/v2", "https://h/prefix/v2", True),
    ("https://h//v2", "https://h//v2", True),
    ("https://h/with space", "https://h/with%20space", True),
    ("https://h/v2?ns=x", "https://h/v2?ns=x", False),
    ("HTTPS://Registry.Example.com", "https://Registry.Example.com/v2", False),
    ("https://user:pass@h", "https://user:pass@h/v2", False),
    ("registry.example.com:443", "https://registry.example.com:443/v2", False),
    ("", "https:///v2", False),
    ("https://", "https:///v2", False),
    ("ftp://x", "ftp://x/v2", False),
])
def test_it_normalises_endpoints_like_k3s(endpoint, url, override):
    n = normalize_endpoint_address(endpoint)
    assert (n.url_string, n.override_path) == (url, override)


@pytest.mark.parametrize(("endpoint", "scheme"), [
    ("localhost:5000", "http"), ("127.0.0.1:5000", "http"), ("[::1]:5000", "http"),
    ("localhost", "https"), ("localhost:443", "https"), ("10.0.0.5:5000", "https"),
])
def test_only_loopback_with_an_odd_port_defaults_to_http(endpoint, scheme):
    assert normalize_endpoint_address(endpoint).url.scheme == scheme


def test_the_embedded_registry_address_stays_https():
    assert normalize_endpoint_address("127.0.0.1:6443", "127.0.0.1:6443").url.scheme == "https"


@pytest.mark.parametrize("endpoint", ["https://h:1:2", "http://h:8080:", "https://[1.2.3.4]/", "::1:5000",
                                      "a b", "https://h:port", "https://h/%zz", "https://[::1"])
def test_go_126_rejects_these_endpoints(endpoint):
    with pytest.raises(URLError):
        normalize_endpoint_address(endpoint)


def test_docker_hub_endpoints_look_up_configs_as_docker_io():
    assert normalize_endpoint_address("https://registry-1.docker.io").registry == "docker.io"
    assert normalize_endpoint_address("https://h:5000/x").registry == "h:5000"


def test_is_localhost_matches_containerd():
    assert is_localhost("localhost:5000") and is_localhost("127.1.2.3") and is_localhost("[::1]:1")
    assert not is_localhost("localhost.example.com") and not is_localhost("10.0.0.1:5000")


def test_go_quote_matches_strconv_quote():
    assert go_quote('a"b\\c\n\x01\u00a0é') == '"a\\"b\\\\c\\n\\x01\\u00a0é"'
