"""The node list says "via <jump host>" on the rows of nodes reached through one (the node's own choice,
else its cluster's), links it, and costs no query per row for it."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regui.inventory.credentials.models import SharedCredential
from regui.inventory.jumphosts.models import ClusterJumpHost, JumpHost, NodeJumpHost
from regui.registries.models import Cluster
from tests.inventory.test_node_list import add_nodes

pytestmark = pytest.mark.django_db


def jump_host(name: str) -> JumpHost:
    credential = SharedCredential(name=f"{name}-key", kind=SharedCredential.Kind.KEY)
    credential.seal_value("not a real key")
    credential.save()
    return JumpHost.objects.create(name=name, address=f"{name}.example.com", credential=credential)


def routes(response) -> dict[str, str]:
    """Each row's node name -> the jump host it says ('' for none)."""
    page = response.content.decode()
    rows = re.findall(r'<tr id="node-row-\d+".*?</tr>', page, re.S)
    found = {}
    for row in rows:
        name = re.search(r'<a href="[^"]+">([\w-]+)</a>', row).group(1)
        via = re.search(r'via <a href="/jump-hosts/([\w-]+)/">\1</a>', row)
        found[name] = via.group(1) if via else ""
    return found


def test_rows_name_the_jump_host_of_the_cluster_or_the_nodes_own_choice(viewer_client, cluster):
    first, second = jump_host("bastion-1"), jump_host("bastion-2")
    ClusterJumpHost.objects.create(cluster=cluster, jump_host=first)
    as_cluster, own, direct = add_nodes(cluster, 3)
    NodeJumpHost.objects.create(node=own, jump_host=second)
    NodeJumpHost.objects.create(node=direct, jump_host=None)
    assert routes(viewer_client.get("/clusters/prod/nodes/")) == {
        as_cluster.name: "bastion-1", own.name: "bastion-2", direct.name: ""}


def test_a_cluster_reached_directly_shows_no_jump_host_but_a_node_of_it_may(viewer_client, cluster):
    plain, own = add_nodes(cluster, 2)
    NodeJumpHost.objects.create(node=own, jump_host=jump_host("bastion-1"))
    assert routes(viewer_client.get("/clusters/prod/nodes/")) == {plain.name: "", own.name: "bastion-1"}


def test_a_busy_rows_poll_names_its_jump_host_too(viewer_client, cluster):
    ClusterJumpHost.objects.create(cluster=cluster, jump_host=jump_host("bastion-1"))
    [node] = add_nodes(cluster, 1)
    row = viewer_client.get(f"/clusters/prod/nodes/{node.pk}/", HTTP_HX_REQUEST="true")
    assert routes(row) == {node.name: "bastion-1"}


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as q:
        assert client.get(url).status_code == 200
    return len(q.captured_queries)


def test_jump_hosts_cost_the_page_no_query_per_row(viewer_client, cluster):
    plain = Cluster.objects.create(name="plain", distro="k3s")
    add_nodes(plain, 40)
    ClusterJumpHost.objects.create(cluster=cluster, jump_host=jump_host("bastion-1"))
    others = [jump_host(f"bastion-{i}") for i in range(2, 6)]
    nodes = add_nodes(cluster, 40)
    for i, node in enumerate(nodes[:20]):  # half choose their own (another, or directly)
        NodeJumpHost.objects.create(node=node, jump_host=others[i % 4] if i % 5 else None)
    assert set(routes(viewer_client.get("/clusters/prod/nodes/")).values()) == {"", *(j.name for j in others),
                                                                                 "bastion-1"}
    assert _queries(viewer_client, "/clusters/prod/nodes/") == _queries(viewer_client, "/clusters/plain/nodes/")
