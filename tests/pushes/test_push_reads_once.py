"""A push to many nodes reads what they share once (issue 13, the push-vs-floor target): the nodes'
credentials come with the nodes in one query (no query, nor database connection, in each node's
thread), and a private key is parsed once per job, not once per node (an RSA key's parse checks its
primes: ~0.1 s of CPU each). The parsed keys live only while the job runs."""

from __future__ import annotations

import contextvars
import threading

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.db.backends.signals import connection_created

from regui.inventory.credentials.services import WITH_LOGIN, credential_create, node_use_credential
from regui.inventory.jumphosts.routing import WITH_JUMP
from regui.inventory.models import Node
from regui.inventory.services import node_target
from regui.remote import keys, ssh
from tests.fakes.ssh import FakeOpening

SHARED = "-----BEGIN OPENSSH PRIVATE KEY-----\nshared by the fleet\n"


def _key_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                             serialization.NoEncryption()).decode()


def _counting_loads(monkeypatch) -> list[str]:
    loads: list[str] = []
    real = keys._load_private_key

    def load(pem: str, passphrase: str = "") -> paramiko.PKey:
        loads.append(pem)
        return real(pem, passphrase)

    monkeypatch.setattr(keys, "_load_private_key", load)
    return loads


def _target(pem: str) -> ssh.Target:
    return ssh.Target(address="192.0.2.1", port=22, username="root", host_key=None, private_key=pem)


def test_within_a_job_each_private_key_is_parsed_once_for_all_its_threads(monkeypatch):
    loads = _counting_loads(monkeypatch)
    pem = _key_pem()
    parsed: list[paramiko.PKey] = []
    with keys.keys_parsed_once():
        threads = [threading.Thread(target=contextvars.copy_context().run,
                                    args=(lambda: parsed.append(keys.private_key(pem)),))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(parsed) == 8 and len(loads) == 1
    assert all(p is parsed[0] for p in parsed)


def test_outside_a_job_each_login_parses_its_key_and_nothing_is_kept(monkeypatch):
    loads = _counting_loads(monkeypatch)
    pem = _key_pem()
    with keys.keys_parsed_once() as parsed:
        keys.private_key(pem)
    assert parsed._keys == {}, "the job's parsed keys are dropped when it ends"
    keys.private_key(pem)
    keys.private_key(pem)
    assert len(loads) == 3


def test_a_key_that_cannot_be_read_fails_every_login_that_uses_it(monkeypatch):
    loads = _counting_loads(monkeypatch)
    with keys.keys_parsed_once():
        for _ in range(2):
            with pytest.raises(ssh.AuthFailed, match="cannot be read"):
                keys.private_key("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n")
    assert len(loads) == 2, "a failed parse is not kept: each login says why it failed"


def test_a_push_parses_the_shared_key_once_for_all_its_nodes(fleet, monkeypatch):
    loads: list[str] = []
    monkeypatch.setattr(keys, "_load_private_key", lambda pem, passphrase="": loads.append(pem) or object())
    logins = []
    real_connect, real_login = fleet.fake.connect, FakeOpening.login

    def connect(target, **kwargs):
        logins.append(keys.private_key(target.private_key, target.passphrase))  # what a real login would sign with
        return real_connect(target, **kwargs)

    def login(opening):  # a connection opened while the chunk rendered
        logins.append(keys.private_key(opening.target.private_key, opening.target.passphrase))
        return real_login(opening)

    monkeypatch.setattr(fleet.fake, "connect", connect)
    monkeypatch.setattr(FakeOpening, "login", login)
    nodes = fleet.add("agent", "agent", "agent", "agent", credential=SHARED)
    job = fleet.push(restart=False)
    assert {r.status for r in job.results.all()} == {"changed"}
    assert len(logins) == len(nodes) and loads == [SHARED]


@pytest.mark.parametrize("shared", [False, True])
def test_a_node_loaded_with_its_login_needs_no_query_to_connect(db, cluster, fake_ssh, make_user, shared,
                                                                django_assert_num_queries):
    from tests.fakes.fleet import register

    node = register(cluster, fake_ssh.node("a1", credential=SHARED))
    if shared:
        admin = make_user("alice", "admin")
        node_use_credential(node=node, credential=credential_create(user=admin, name="fleet", kind="key",
                                                                    value=SHARED), user=admin)
    loaded = Node.objects.select_related("cluster", WITH_LOGIN, *WITH_JUMP).get(pk=node.pk)
    with django_assert_num_queries(0):
        target = node_target(loaded)
    assert target.private_key == SHARED
    assert node_target(Node.objects.get(pk=node.pk)) == target, "read now when not loaded with the node"


def test_a_push_opens_no_database_connection_per_node(fleet):
    opened: list[int] = []

    def count(sender, connection, **kwargs):
        opened.append(threading.get_ident())

    fleet.add(*["agent"] * 2, credential=SHARED)
    connection_created.connect(count)
    try:
        fleet.push(restart=False)
        few = len(opened)
        fleet.add(*["agent"] * 10, credential=SHARED)
        opened.clear()
        fleet.push(restart=False)
    finally:
        connection_created.disconnect(count)
    assert len(opened) == few, "twelve nodes open as many database connections as two"
