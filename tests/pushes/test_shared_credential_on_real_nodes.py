"""A shared SSH credential on real sshd nodes through the Celery worker: rotating it once lets the next
push reach every node that uses it, with a passphrase-protected key."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.harness._base import HD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _new_key(passphrase: str) -> tuple[str, str]:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                            serialization.BestAvailableEncryption(passphrase.encode())).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return pem, public.decode() + " regui-rotated\n"


def test_rotating_a_shared_credential_once_lets_a_push_reach_every_node_that_uses_it(stack, nodes, make_user):
    from regui.inventory.credentials.services import credential_create, credential_rotate, node_use_credential

    admin = make_user("alice", "admin")
    h = nodes(3)
    added = stack.add(h)
    shared = credential_create(user=admin, name="fleet", kind="key", value=h.client_private_key_pem)
    for node in added:
        node_use_credential(node=node, credential=shared, user=admin)
    job = stack.push()
    assert {r.status for r in job.results.all()} == {"changed"}, [r.message for r in job.results.all()]

    pem, public = _new_key("rotate-me-9")
    for hn in h.nodes:  # the nodes now accept only the new key
        hn.write(f"{HD}/authorized_keys", public)
    refused = stack.push()
    assert {r.status for r in refused.results.all()} == {"failed"}
    assert all("refused" in r.message for r in refused.results.all()), [r.message for r in refused.results.all()]

    credential_rotate(user=admin, credential=shared, value=pem, passphrase="rotate-me-9")
    job = stack.push()
    assert len(job.results.all()) == 3
    assert {r.status for r in job.results.all()} <= {"changed", "unchanged"}, [r.message for r in job.results.all()]
