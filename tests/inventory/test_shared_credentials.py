"""Shared SSH credentials (issue 13 item 1): one key or password many nodes log in with, made and
rotated by admins only, write-only, resolved by the trust gate at each connection."""

from __future__ import annotations

import functools
import io

import paramiko
import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.utils import timezone

from regui.audit.models import AuditEvent
from regui.inventory.credentials.models import NodeCredential, SharedCredential
from regui.inventory.credentials.services import (
    CredentialError,
    credential_create,
    credential_delete,
    credential_rotate,
    node_use_credential,
)
from regui.inventory.services import NodeError, node_read_registries, node_target
from regui.remote import keys, ssh
from tests.fakes.fleet import register

pytestmark = pytest.mark.django_db

FILE = b'mirrors:\n  docker.io:\n    endpoint: ["https://m.example.com"]\n'
KEY_1 = "-----BEGIN OPENSSH PRIVATE KEY-----\nshared one\n"
KEY_2 = "-----BEGIN OPENSSH PRIVATE KEY-----\nshared two\n"


@pytest.fixture
def admin(make_user):
    return make_user("alice", "admin")


@pytest.fixture
def operator(make_user):
    return make_user("olivia", "operator")


def _fleet(fake_ssh, cluster, n: int, credential: str):
    fakes = [fake_ssh.node(f"n{i}", credential=credential) for i in range(1, n + 1)]
    for fake in fakes:
        fake.write("/etc/rancher/k3s/registries.yaml", FILE)
    return fakes, [register(cluster, fake) for fake in fakes]


def test_a_rotation_reaches_every_node_that_uses_the_shared_credential(fake_ssh, cluster, admin):
    shared = credential_create(user=admin, name="fleet", kind="key", value=KEY_1)
    fakes, nodes = _fleet(fake_ssh, cluster, 3, KEY_1)
    for node in nodes:
        node_use_credential(node=node, credential=shared, user=admin)
        node.refresh_from_db()
        assert node.sealed == "", "its own credential is dropped: the shared one is used"
        assert node_read_registries(node=node) == FILE.decode()

    for fake in fakes:
        fake.credential = KEY_2  # the nodes' authorized key changed
    credential_rotate(user=admin, credential=shared, value=KEY_2)
    for node, fake in zip(nodes, fakes, strict=True):
        assert node_target(node).private_key == KEY_2
        assert node_read_registries(node=node) == FILE.decode()
        assert fake.connects, "the fake transport accepted the new key"


def test_a_node_keeps_its_own_credential_when_it_uses_no_shared_one(fake_ssh, cluster, admin):
    credential_create(user=admin, name="fleet", kind="key", value=KEY_1)
    [fake], [node] = _fleet(fake_ssh, cluster, 1, "")
    assert node_target(node).private_key == fake.credential
    assert node_read_registries(node=node) == FILE.decode()


def test_an_operator_cannot_create_rotate_or_delete_a_shared_credential(admin, operator):
    with pytest.raises(CredentialError, match="Only an admin can create"):
        credential_create(user=operator, name="fleet", kind="key", value=KEY_1)
    shared = credential_create(user=admin, name="fleet", kind="key", value=KEY_1)
    with pytest.raises(CredentialError, match="Only an admin can rotate"):
        credential_rotate(user=operator, credential=shared, value=KEY_2)
    with pytest.raises(CredentialError, match="Only an admin can delete"):
        credential_delete(user=operator, credential=shared)
    shared.refresh_from_db()
    assert shared.unseal_value() == (KEY_1, "")


def test_the_value_is_sealed_and_history_records_only_that_it_changed(admin):
    shared = credential_create(user=admin, name="fleet", kind="password", value="pw-shared-31")
    credential_rotate(user=admin, credential=shared, value="pw-shared-32")
    shared.refresh_from_db()
    assert "pw-shared" not in shared.sealed and shared.rotated_by == "alice"
    events = AuditEvent.objects.filter(object_type="ssh_credential").order_by("pk")
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].changes["value"] == ["(set)", "(changed)"] and events[1].message == "rotated"
    assert "pw-shared" not in repr([e.changes for e in events])


def test_choosing_a_shared_credential_is_recorded_on_the_node_without_the_value(fake_ssh, cluster, admin, operator):
    shared = credential_create(user=admin, name="fleet", kind="key", value=KEY_1)
    [_], [node] = _fleet(fake_ssh, cluster, 1, KEY_1)
    node_use_credential(node=node, credential=shared, user=operator)
    event = AuditEvent.objects.filter(object_type="node").latest("pk")
    assert event.changes["shared credential"] == [None, "fleet"]
    assert event.changes["credential"] == ["(set)", None]
    assert "shared one" not in repr(event.changes)
    node.refresh_from_db()
    assert node.address_changed_by == "olivia", "the choice counts like an address change"


def test_an_operator_who_chose_the_shared_credential_and_approved_the_key_cannot_send_it(
        fake_ssh, cluster, admin, operator, settings):
    settings.REGUI_HOST_KEY_APPROVAL = "two-person"
    shared = credential_create(user=admin, name="fleet", kind="key", value=KEY_1)
    [_], [node] = _fleet(fake_ssh, cluster, 1, KEY_1)
    node_use_credential(node=node, credential=shared, user=operator)
    # Its key, sent back for approval by her choice, approved again by her (once someone else moved it, say).
    node.host_key_type, node.host_key = node.scanned_key_type, node.scanned_key
    node.host_key_approved_at, node.host_key_approved_by = timezone.now(), "olivia"
    node.save()
    with pytest.raises(NodeError, match="olivia chose this node's shared credential and approved its host key"):
        node_target(node)
    node.host_key_approved_by = "bob"
    node.save()
    assert node_target(node).private_key == KEY_1


def test_a_node_with_a_shared_credential_still_needs_an_approved_host_key(fake_ssh, cluster, admin):
    shared = credential_create(user=admin, name="fleet", kind="key", value=KEY_1)
    fake = fake_ssh.node("n1", credential=KEY_1)
    node = register(cluster, fake, approve=False)
    node_use_credential(node=node, credential=shared, user=admin)
    with pytest.raises(NodeError, match="no approved host key"):
        node_target(node)


def test_moving_a_node_keeps_its_shared_credential_choice_but_drops_the_host_key(fake_ssh, cluster, admin):
    shared = credential_create(user=admin, name="fleet", kind="key", value=KEY_1)
    [_], [node] = _fleet(fake_ssh, cluster, 1, KEY_1)
    node_use_credential(node=node, credential=shared, user=admin)
    node.address = "198.51.100.9"
    node.save()
    assert NodeCredential.objects.filter(node=node).exists()
    with pytest.raises(NodeError, match="no approved host key"):
        node_target(node)


def test_a_shared_credential_in_use_cannot_be_deleted(fake_ssh, cluster, admin):
    shared = credential_create(user=admin, name="fleet", kind="key", value=KEY_1)
    [_], [node] = _fleet(fake_ssh, cluster, 1, KEY_1)
    node_use_credential(node=node, credential=shared, user=admin)
    with pytest.raises(CredentialError, match="used by n1"):
        credential_delete(user=admin, credential=shared)
    node_use_credential(node=node, credential=None, user=admin)
    credential_delete(user=admin, credential=shared)
    assert not SharedCredential.objects.exists()


def test_a_passphrase_protected_key_is_loaded_with_its_passphrase(fake_ssh, cluster, admin):
    key = paramiko.Ed25519Key.from_private_key(io.StringIO(_ed25519_pem("pass-phrase-9")), password="pass-phrase-9")
    pem = _ed25519_pem("pass-phrase-9")
    assert keys._load_private_key(pem, "pass-phrase-9").get_fingerprint() == key.get_fingerprint()
    with pytest.raises(ssh.AuthFailed, match="passphrase"):
        keys._load_private_key(pem, "wrong")
    with pytest.raises(ssh.AuthFailed, match="needs a passphrase"):
        keys._load_private_key(pem)

    shared = credential_create(user=admin, name="fleet", kind="key", value=pem, passphrase="pass-phrase-9")
    [_], [node] = _fleet(fake_ssh, cluster, 1, pem)
    node_use_credential(node=node, credential=shared, user=admin)
    target = node_target(node)
    assert (target.private_key, target.passphrase) == (pem, "pass-phrase-9")


def test_the_key_rotation_command_re_encrypts_shared_credentials(admin, settings, capsys):
    old = settings.REGUI_ENCRYPTION_KEYS
    credential_create(user=admin, name="fleet", kind="password", value="pw-shared-77")
    new = Fernet.generate_key().decode()
    settings.REGUI_ENCRYPTION_KEYS = (new, *old)
    call_command("rotate_secret_keys")
    assert "1 shared SSH credential(s)" in capsys.readouterr().out
    settings.REGUI_ENCRYPTION_KEYS = (new,)
    assert SharedCredential.objects.get().unseal_value() == ("pw-shared-77", "")


@functools.cache
def _ed25519_pem(passphrase: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(passphrase.encode())).decode()
