"""The confirmation of a push to hundreds of nodes fits on a few screens, with its "Push to N nodes"
button reachable: a step's list of more than 10 nodes and a table of more than 20 are folded (a click
opens them), and "What changes" names 10 nodes of a group and counts the rest. For 600 nodes the page
was 37,000 pixels tall, one line per agent in the order, then one row per node, then every name again,
with the button at the very bottom. A push to a few nodes shows everything, as before."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from regui.inventory.models import Node
from regui.registries.importing import registries_import

pytestmark = pytest.mark.django_db


def add_nodes(cluster, count: int) -> None:
    registries_import(cluster=cluster, text="mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n",
                      replace=True)
    Node.objects.bulk_create(
        Node(cluster=cluster, name=f"n{i:04}", address=f"10.0.{i // 250}.{i % 250 + 1}",
             role="server" if i < 3 else "agent", host_key_type="ssh-ed25519", host_key="AAAA",
             host_key_fingerprint="SHA256:x", host_key_approved_at=timezone.now()) for i in range(count))


def confirmation(client) -> str:
    r = client.get("/clusters/prod/push/confirm/?scope=all")
    assert r.status_code == 200
    return r.content.decode()


def test_600_nodes_fold_their_lists_and_name_a_few_changes(operator_client, cluster):
    add_nodes(cluster, 600)
    page = confirmation(operator_client)
    agents = re.search(r'<div class="push-step" data-role="agent">(.*?)</div>', page, re.S)[1]
    assert "<details><summary>the 597 agents, in order</summary>" in agents
    servers = re.search(r'<div class="push-step" data-role="server">(.*?)</div>', page, re.S)[1]
    assert "<details" not in servers
    assert re.search(r'<details id="push-nodes-fold"><summary>600 nodes</summary>\s*<table', page)
    heading = re.search(r'<div class="push-change"[^>]*>\s*<h3>(.*?)</h3>', page, re.S)[1]
    assert heading == "n0000, n0001, n0002, n0003, n0004, n0005, n0006, n0007, n0008, n0009 and 590 more: " \
                      "unknown, will be replaced"
    assert page.count('name="nodes"') == 600  # every node is still pushed
    assert "Push to 600 nodes" in page


def test_a_few_nodes_are_shown_unfolded(operator_client, cluster):
    add_nodes(cluster, 5)
    page = confirmation(operator_client)
    assert "<details><summary>the" not in page
    assert '<details id="push-nodes-fold" open>' in page
    assert "n0000, n0001, n0002, n0003, n0004: unknown, will be replaced" in page
