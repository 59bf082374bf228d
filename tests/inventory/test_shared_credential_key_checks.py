"""A shared credential's private key is read when it is typed (created or rotated): a key regui cannot
read, or a wrong passphrase, is a form error then, and nothing is stored; not a failure of every node's
next push."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from regui.inventory.credentials.models import SharedCredential
from regui.inventory.credentials.services import credential_create

pytestmark = pytest.mark.django_db


def _key(passphrase: str = "") -> str:
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                                      encryption).decode()


def _create(client, value: str, passphrase: str = ""):
    return client.post("/ssh-credentials/", {"name": "fleet", "kind": "key", "value": value, "passphrase": passphrase})


def test_a_readable_key_with_or_without_its_passphrase_is_stored(admin_client):
    assert _create(admin_client, _key()).status_code == 302
    SharedCredential.objects.all().delete()
    assert _create(admin_client, _key("right-one"), "right-one").status_code == 302
    assert SharedCredential.objects.get().unseal_value()[1] == "right-one"


@pytest.mark.parametrize("value, passphrase, said", [
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n", "",
     "This key cannot be read: paste a whole OpenSSH or PEM private key"),
    (_key()[:200] + "\n-----END OPENSSH PRIVATE KEY-----\n", "", "This key cannot be read"),
    (_key("right-one"), "", "an encrypted one needs its passphrase below"),
    (_key("right-one"), "wrong-one", "This key cannot be read with this passphrase."),
])
def test_a_key_that_cannot_be_read_is_a_form_error(admin_client, value, passphrase, said):
    r = _create(admin_client, value, passphrase)
    assert r.status_code == 400 and said in r.content.decode() and not SharedCredential.objects.exists()


def test_rotating_to_a_key_that_cannot_be_read_keeps_the_old_value(admin_client, make_user):
    shared = credential_create(user=make_user("root-admin", "admin"), name="fleet", kind="key", value=_key())
    before = shared.sealed
    r = admin_client.post("/ssh-credentials/fleet/rotate/", {"kind": "key", "value": _key("x-pass"),
                                                             "passphrase": "y-pass"})
    assert r.status_code == 400 and "cannot be read with this passphrase" in r.content.decode()
    assert SharedCredential.objects.get().sealed == before
