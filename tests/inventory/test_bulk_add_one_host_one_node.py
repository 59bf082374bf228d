"""Bulk add keeps one node per host, as the import does: the same address and port twice in the pasted
lines, or a host that is already a node of the cluster, is refused naming the line, and nothing is added."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from regui.inventory.services import parse_bulk

pytestmark = pytest.mark.django_db
BASE = {"ssh_user": "deploy", "credential_kind": "password", "credential": "pw-123"}


def test_the_same_host_twice_in_the_lines_is_an_error():
    _, errors = parse_bulk("a1 10.0.0.1 agent\na2 10.0.0.1:22 agent\na3 10.0.0.1:2222 agent")
    assert errors == ["10.0.0.1:22 appears more than once (one host, one node)"]


def test_a_host_that_is_already_a_node_is_refused_and_nothing_is_added(operator_client, cluster):
    Node.objects.create(cluster=cluster, name="old", address="10.0.0.1", role="agent")
    r = operator_client.post("/clusters/prod/nodes/bulk/", {**BASE, "lines": "a1 10.0.0.2 agent\na2 10.0.0.1 agent"})
    assert r.status_code == 400 and "line 2: 10.0.0.1:22 is already node old" in r.content.decode()
    assert list(Node.objects.values_list("name", flat=True)) == ["old"]
