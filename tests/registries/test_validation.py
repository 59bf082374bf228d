"""Checks Rancher does not make (pure)."""

from __future__ import annotations

import pytest

from regui.registries import validation as v
from tests.certs import key_and_cert


@pytest.mark.parametrize("host", ["docker.io", "registry.example.com:5000", "*", "localhost:5000",
                                  "10.0.0.5", "10.0.0.5:5000", "[::1]:5000", "Registry.Example.com"])
def test_it_accepts_registry_hostnames(host):
    assert v.check_hostname(host) is None


@pytest.mark.parametrize("host,fragment", [
    ("", "required"), ("https://docker.io", "no scheme"), ("docker.io/library", "no scheme"),
    ("bad host", "not a valid host"), ("reg.example.com:0", "1 to 65535"), ("reg.example.com:70000", "1 to 65535"),
    ("reg.example.com:abc", "1 to 65535"), ("-bad.example.com", "not a valid host"), ("300.1.1.1", "IPv4"),
    ("[zz::1]:5000", "IPv6"), ("a..b", "not a valid host"),
])
def test_it_refuses_bad_hostnames(host, fragment):
    assert fragment in v.check_hostname(host)


@pytest.mark.parametrize("url", ["https://mirror.example.com:5000", "http://10.0.0.5:5000", "mirror.example.com",
                                 "https://h/v2", "https://h:443/custom/path", "http://[::1]:5000"])
def test_it_accepts_endpoint_urls(url):
    assert v.check_endpoint(url) is None


@pytest.mark.parametrize("url,fragment", [
    ("ftp://h", "Scheme"), ("https://", "no valid host"), ("https://h:99999", "65535"), ("https://h:0", "65535"),
    ("https://user:pw@h", "credentials"), ("https://h/v2?ns=x", "query"), ("https://h space", "spaces"),
    ("https://h:1:2", "URL"), ("https://bad_host!", "not a valid host"),
])
def test_it_refuses_bad_endpoint_urls(url, fragment):
    assert fragment in v.check_endpoint(url)


def test_it_refuses_patterns_go_cannot_compile():
    assert "RE2" in v.check_rewrite_pattern("^(?!library)(.*)")
    assert "RE2" in v.check_rewrite_pattern("(a)(?P=x)")
    assert v.check_rewrite_pattern("^rancher/(.*)") is None


def test_it_refuses_backslashes_and_quotes_that_k3s_writes_unescaped():
    assert "hosts.toml" in v.check_rewrite_pattern(r"^library/(\w+)")
    assert "hosts.toml" in v.check_rewrite_pattern('^"x"')
    assert "hosts.toml" in v.check_rewrite_replacement(r"a\1", "(a)")


def test_it_explains_that_dollar_one_x_is_a_named_group():
    problem = v.check_rewrite_replacement("$1_x", "^(.*)$")
    assert "${1}_x" in problem
    assert v.check_rewrite_replacement("${1}_x", "^(.*)$") is None
    assert v.check_rewrite_replacement("$$1", "^(.*)$") is None


def test_it_refuses_references_to_groups_the_pattern_lacks():
    assert "1 group" in v.check_rewrite_replacement("$2", "^(.*)$")
    assert "named" in v.check_rewrite_replacement("${repo}", "^(.*)$")
    assert v.check_rewrite_replacement("${repo}", "^(?P<repo>.*)$") is None


def test_a_ca_bundle_must_be_pem_certificates():
    key, cert = key_and_cert()
    assert v.check_ca_bundle(cert) is None
    assert v.check_ca_bundle(cert + cert) is None
    assert "PEM" in v.check_ca_bundle("hello")
    assert "damaged" in v.check_ca_bundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
    assert "holds certificates only" in v.check_ca_bundle(cert + key)


def test_a_tls_key_must_match_its_certificate():
    key1, cert1 = key_and_cert("one.test")
    key2, _ = key_and_cert("two.test")
    assert v.check_key_matches_certificate(key1, cert1) is None
    assert "does not belong" in v.check_key_matches_certificate(key2, cert1)
