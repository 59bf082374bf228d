"""PEM text is stored with LF line endings whichever way it came in (browsers send a textarea with CRLF)."""

from __future__ import annotations

import base64

import pytest

from regui.inventory.models import Node
from regui.registries.models import RegistryConfig, Secret
from regui.registries.validation import pem_text
from tests.certs import key_and_cert
from tests.keys import ssh_key
from tests.pages import confirm_import, post_registries

pytestmark = pytest.mark.django_db

KEY = ssh_key()  # a node's typed key is read: a real one


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def lone_cr(text: str) -> str:
    return text.replace("\n", "\r")


@pytest.mark.parametrize("mangle", [crlf, lone_cr])
def test_pem_text_turns_crlf_and_lone_cr_into_lf(mangle):
    _, cert = key_and_cert("pem.test")
    assert pem_text(mangle(cert)) == cert
    assert pem_text("a\r\n\r\nb\rc\n") == "a\n\nb\nc\n"
    assert pem_text(cert) == cert and pem_text("") == ""


@pytest.mark.parametrize("mangle", [crlf, lone_cr])
def test_a_tls_secret_pasted_with_cr_line_endings_is_stored_with_lf(operator_client, cluster, mangle):
    key, cert = key_and_cert("pem.test")
    r = operator_client.post("/secrets/new/?kind=tls",
                             {"cluster": cluster.name, "name": "client", "certificate": mangle(cert), "private_key": mangle(key)})
    assert r.status_code == 302, r.content.decode()[-2000:]
    secret = Secret.objects.get(name="client")
    assert secret.certificate == cert and secret.unseal() == {"private_key": key}
    # An edit that pastes the key again keeps it LF too (the update path of the same service).
    operator_client.post("/secrets/client/", {"name": "client", "certificate": crlf(cert), "private_key": crlf(key)})
    secret.refresh_from_db()
    assert secret.certificate == cert and secret.unseal() == {"private_key": key}


@pytest.mark.parametrize("encode", [lambda pem: pem, lambda pem: base64.b64encode(pem.encode()).decode()],
                         ids=["pem", "base64"])
@pytest.mark.parametrize("mangle", [crlf, lone_cr])
def test_a_ca_bundle_with_cr_line_endings_is_stored_with_lf(operator_client, cluster, mangle, encode):
    _, cert = key_and_cert("pem.test")
    _, other = key_and_cert("other.test")
    bundle = encode(mangle(cert + other))
    post_registries(operator_client, cluster, {
        "revision": "0", "_action": "save", "config": ["c1"], "c1-hostname": "mirror.example.com:5000",
        "c1-auth": "none", "c1-ca_bundle": bundle})
    assert RegistryConfig.objects.get().ca_bundle == (cert + other).strip()


def test_an_imported_file_with_crlf_line_endings_stores_no_cr(operator_client, cluster):
    # Import takes no PEM (registries.yaml names TLS files by path), but it makes secrets from the
    # file: a file saved on Windows must not leave a CR at the end of a password or a path.
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = ('mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com:5000"]\n'
            'configs:\n  "mirror.example.com:5000":\n    auth:\n      username: robot\n      password: pw-7Q\n'
            '    tls:\n      ca_file: /etc/ssl/ca.pem\n')
    upload = SimpleUploadedFile("registries.yaml", crlf(text).encode())
    preview = operator_client.post(f"/clusters/{cluster.name}/import/", {"file": upload})
    confirm_import(operator_client, cluster.name, preview)
    config = RegistryConfig.objects.get()
    secret = config.auth_secret
    assert (config.ca_file, secret.username, secret.unseal()["password"]) == ("/etc/ssl/ca.pem", "robot", "pw-7Q")
    assert cluster.mirrors.get().endpoints == ["https://mirror.example.com:5000"]


@pytest.mark.parametrize("mangle", [crlf, lone_cr])
def test_a_node_key_pasted_with_cr_line_endings_is_stored_with_lf(operator_client, cluster, mangle):
    data = {"name": "server-1", "address": "10.250.0.11", "port": "22", "role": "server", "ssh_user": "root",
            "credential_kind": "key", "credential": mangle(KEY), "labels_text": ""}
    assert operator_client.post(f"/clusters/{cluster.name}/nodes/new/", data).status_code == 302
    bulk = {"lines": "a1 10.0.0.2 agent\na2 10.0.0.3 agent", "ssh_user": "root", "credential_kind": "key",
            "credential": mangle(KEY)}
    assert operator_client.post(f"/clusters/{cluster.name}/nodes/bulk/", bulk).status_code == 302
    assert [n.unseal_credential() for n in Node.objects.order_by("name")] == [KEY, KEY, KEY]


def test_a_node_password_keeps_its_cr(operator_client, cluster):
    # A password is someone's exact secret, not PEM: it is stored as typed.
    data = {"lines": "a1 10.0.0.2 agent", "ssh_user": "deploy", "credential_kind": "password",
            "credential": "pw\r\nwith-cr\r"}
    assert operator_client.post(f"/clusters/{cluster.name}/nodes/bulk/", data).status_code == 302
    assert Node.objects.get().unseal_credential() == "pw\r\nwith-cr\r"
