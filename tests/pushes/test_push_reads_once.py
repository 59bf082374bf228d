"""A push to many nodes reads what they share once (issue 13, the push-vs-floor target): the nodes'
credentials come with the nodes in one query (no query, nor database connection, in each node's
thread)."""

from __future__ import annotations

import threading

import pytest
from django.db.backends.signals import connection_created

from regui.inventory.credentials.services import WITH_LOGIN, credential_create, node_use_credential
from regui.inventory.models import Node
from regui.inventory.services import node_target

SHARED = "-----BEGIN OPENSSH PRIVATE KEY-----\nshared by the fleet\n"


@pytest.mark.parametrize("shared", [False, True])
def test_a_node_loaded_with_its_login_needs_no_query_to_connect(db, cluster, fake_ssh, make_user, shared,
                                                                django_assert_num_queries):
    from tests.fakes.fleet import register

    node = register(cluster, fake_ssh.node("a1", credential=SHARED))
    if shared:
        admin = make_user("alice", "admin")
        node_use_credential(node=node, credential=credential_create(user=admin, name="fleet", kind="key",
                                                                    value=SHARED), user=admin)
    loaded = Node.objects.select_related("cluster", WITH_LOGIN).get(pk=node.pk)
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
