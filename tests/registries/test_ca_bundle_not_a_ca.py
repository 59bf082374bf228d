"""A registry's CA Cert Bundle that holds no CA certificate (a server's own certificate, CA:FALSE or
without the CA basic constraint) gets a lint warning linked to the field, saying what to give instead:
containerd otherwise fails TLS at pull time with "certificate signed by unknown authority". A bundle
with at least one CA certificate in it is fine."""

from __future__ import annotations

import html

import pytest

from tests.certs import key_and_cert
from tests.pages import post_registries

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def lint_tab(client, cluster, bundle: str) -> str:
    data = {"revision": "0", "_action": "insight", "mirror": ["m1"], "m1-hostname": "docker.io",
            "m1-endpoint": ["e1"], "e1-url": "https://mirror.example.com:5000",
            "config": ["c1"], "c1-hostname": "mirror.example.com:5000", "c1-ca_bundle": bundle}
    return html.unescape(post_registries(client, cluster, data, **HX).content.decode())


@pytest.mark.parametrize("ca", [False, None], ids=["CA:FALSE", "no basic constraints"])
def test_a_server_certificate_as_the_ca_bundle_is_warned_of_with_what_to_give_instead(operator_client, cluster, ca):
    page = lint_tab(operator_client, cluster, key_and_cert("mirror.example.com", ca=ca)[1])
    assert "ca-bundle-not-ca" in page
    assert "The CA Cert Bundle of mirror.example.com:5000 holds no CA certificate" in page
    assert "CN=mirror.example.com is not a CA certificate" in page
    assert "the certificate of the CA that signed the registry's certificate" in page
    assert 'href="#c1-ca_bundle"' in page


def test_a_bundle_with_a_ca_among_its_certificates_is_fine(operator_client, cluster):
    bundle = key_and_cert("mirror.example.com", ca=False)[1] + key_and_cert("Corp Root CA")[1]
    assert "ca-bundle-not-ca" not in lint_tab(operator_client, cluster, bundle)


def test_a_ca_certificate_alone_is_fine(operator_client, cluster):
    assert "ca-bundle-not-ca" not in lint_tab(operator_client, cluster, key_and_cert("Corp Root CA")[1])
