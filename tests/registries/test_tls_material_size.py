"""How much TLS material regui keeps: a CA Cert Bundle, or a TLS secret's certificate (chain), of at most
MAX_CERTIFICATES_BYTES, a private key of at most MAX_PRIVATE_KEY_BYTES. A bigger paste is refused next to
its field, naming the limit, on every path that makes TLS material (the Secrets page's TLS form, new and
edited; the Registries page's CA Cert Bundle, saved or applied through Edit as YAML); an import (pasted or
from a node) carries paths, never PEM. Debian's whole system bundle still goes in."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from regui.k3s.limits import size_text
from regui.registries.models import RegistryConfig, Secret
from regui.registries.validation import MAX_CERTIFICATES_BYTES, MAX_PRIVATE_KEY_BYTES
from tests.certs import key_and_cert
from tests.fakes.fleet import register
from tests.pages import post_registries

pytestmark = [pytest.mark.django_db,
              # Debian's bundle holds a certificate with a negative serial number, which cryptography warns of.
              pytest.mark.filterwarnings("ignore:Parsed a serial number:cryptography.utils.CryptographyDeprecationWarning")]
HX = {"HTTP_HX_REQUEST": "true"}
DEBIAN_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture(scope="module")
def debian_bundle() -> str:
    with open(DEBIAN_BUNDLE) as f:
        return f.read()


@pytest.fixture(scope="module")
def huge_chain(debian_bundle) -> str:
    """A 2.5 MB chain of real certificates: a leaf, then Debian's bundle again and again."""
    chain = key_and_cert("big.test", ca=False)[1] + debian_bundle * 12
    assert len(chain) > 2_500_000
    return chain


def limit_named(page: str, limit: int) -> bool:
    return f"at most {limit // 1024} KiB" in html.unescape(page)


def test_the_limits_leave_room_for_real_material(debian_bundle):
    assert 2 * len(debian_bundle.encode()) <= MAX_CERTIFICATES_BYTES
    # An RSA key of 16384 bits, the most OpenSSL works with, is about 12.6 KB of PEM.
    assert MAX_PRIVATE_KEY_BYTES >= 13_000


def test_a_tls_secret_with_a_huge_certificate_chain_is_refused_naming_the_limit(operator_client, cluster, huge_chain):
    key, _ = key_and_cert("big.test", ca=False)
    r = operator_client.post("/secrets/new/?kind=tls", {"cluster": "prod", "name": "big", "certificate": huge_chain,
                                                         "private_key": key})
    assert r.status_code == 400 and limit_named(r.content.decode(), MAX_CERTIFICATES_BYTES)
    assert not Secret.objects.exists()


def test_a_tls_secret_with_a_huge_private_key_is_refused_naming_the_limit(operator_client, cluster):
    key, cert = key_and_cert("big.test", ca=False)
    body = "A" * 64
    padded = key.replace("\n-----END", ("\n" + body) * (MAX_PRIVATE_KEY_BYTES // 64) + "\n-----END")
    r = operator_client.post("/secrets/new/?kind=tls", {"cluster": "prod", "name": "big", "certificate": cert,
                                                         "private_key": padded})
    assert r.status_code == 400 and limit_named(r.content.decode(), MAX_PRIVATE_KEY_BYTES)
    assert not Secret.objects.exists()


def test_an_edited_tls_secret_cannot_grow_past_the_limit(operator_client, cluster, huge_chain):
    key, cert = key_and_cert("big.test", ca=False)
    assert operator_client.post("/secrets/new/?kind=tls", {"cluster": "prod", "name": "big", "certificate": cert,
                                                            "private_key": key}).status_code == 302
    r = operator_client.post("/secrets/big/", {"name": "big", "certificate": huge_chain, "private_key": ""})
    assert r.status_code == 400 and limit_named(r.content.decode(), MAX_CERTIFICATES_BYTES)
    assert Secret.objects.get().certificate == cert


def test_a_tls_secret_whose_chain_is_debians_whole_bundle_is_kept(operator_client, cluster, debian_bundle):
    key, leaf = key_and_cert("big.test", ca=False)
    r = operator_client.post("/secrets/new/?kind=tls", {"cluster": "prod", "name": "big",
                                                         "certificate": leaf + debian_bundle, "private_key": key})
    assert r.status_code == 302 and Secret.objects.get().certificate.count("BEGIN CERTIFICATE") > 100


def bundle_form(bundle: str) -> dict:
    return {"revision": "0", "config": ["c1"], "c1-hostname": "registry.example.com", "c1-ca_bundle": bundle}


def test_a_ca_bundle_past_the_limit_is_refused_next_to_its_field(operator_client, cluster, debian_bundle):
    r = post_registries(operator_client, cluster, bundle_form(debian_bundle * 3), **HX)
    assert len(debian_bundle * 3) > MAX_CERTIFICATES_BYTES
    assert r.status_code == 400 and limit_named(r.content.decode(), MAX_CERTIFICATES_BYTES)
    assert not RegistryConfig.objects.exists()


def test_debians_whole_bundle_is_kept_as_a_ca_bundle(operator_client, cluster, debian_bundle):
    r = post_registries(operator_client, cluster, bundle_form(debian_bundle), **HX)
    assert r.status_code == 200 and r.get("X-Regui-Saved"), r.content.decode()[:500]
    assert RegistryConfig.objects.get().ca_bundle.strip() == debian_bundle.strip()


def test_edit_as_yaml_marks_a_bundle_past_the_limit_that_it_copies_into_a_box(operator_client, cluster,
                                                                                debian_bundle):
    text = ("configs:\n  registry.example.com:\n    tls:\n"
            "      ca_file: /var/lib/rancher/k3s/etc/tls/registries/registry.example.com/ca.crt\n")
    r = operator_client.post(f"/clusters/{cluster.name}/registries/yaml/apply/",
                             {**bundle_form(debian_bundle * 3), "yaml_text": text}, **HX)
    page = html.unescape(r.content.decode())
    assert r.status_code == 200 and "line 4: " in page and limit_named(page, MAX_CERTIFICATES_BYTES)
    assert not RegistryConfig.objects.exists()


def pem_as_path(field: str, copies: int = 5000) -> str:
    """A file whose `tls` names, instead of a path, certificates (2.5 MB of them: a bundle pasted in its place)."""
    pem = key_and_cert("big.test")[1].replace("\n", "\\n")
    return f'configs:\n  registry.example.com:\n    tls:\n      {field}: "{pem * copies}"\n'


@pytest.mark.parametrize("field", ["ca_file", "cert_file", "key_file"])
def test_a_pasted_import_holds_paths_so_pem_in_place_of_one_is_refused_not_kept(operator_client, cluster, field):
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": pem_as_path(field)})
    assert r.status_code == 400 and "regui does not import this file" in html.unescape(r.content.decode())
    assert not RegistryConfig.objects.exists() and not Secret.objects.exists()


def test_an_import_from_a_node_holds_paths_so_pem_in_place_of_one_is_refused_not_kept(fake_ssh, cluster,
                                                                                       operator_client):
    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", pem_as_path("ca_file", 500).encode())  # what a node read takes
    url = f"/clusters/prod/nodes/{register(cluster, fake).pk}/import/"
    operator_client.post(url)
    page = operator_client.post(url, {"confirm": "1"}, follow=True).content.decode()
    assert "regui does not import this file" in html.unescape(page)
    assert not RegistryConfig.objects.exists() and not Secret.objects.exists()


def test_the_readme_states_the_limits_regui_holds():
    with open(Path(__file__).resolve().parents[2] / "README.md") as f:
        readme = " ".join(f.read().split())
    assert f"TLS material is kept up to {size_text(MAX_CERTIFICATES_BYTES)} of certificates" in readme
    assert f"{size_text(MAX_PRIVATE_KEY_BYTES)} of private key" in readme
