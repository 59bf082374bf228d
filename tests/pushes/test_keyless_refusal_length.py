"""A push refused because no target node has an approved host key names a few nodes and counts the
rest: for a cluster of thousands of unscanned nodes it listed every name in one paragraph."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from regui.pushes.targets import keyless_refusal

pytestmark = pytest.mark.django_db


def nodes(cluster, count: int) -> list[Node]:
    Node.objects.bulk_create(Node(cluster=cluster, name=f"n{i:04}", address=f"10.0.{i // 250}.{i % 250 + 1}")
                             for i in range(count))
    return list(cluster.nodes.order_by("name"))


def test_a_few_nodes_without_a_key_are_all_named(cluster):
    refusal = keyless_refusal(nodes(cluster, 3))
    assert "n0000, n0001, n0002." in refusal and "more" not in refusal


def test_thousands_of_nodes_without_a_key_are_named_a_few_and_counted(cluster):
    refusal = keyless_refusal(nodes(cluster, 3000))
    assert "No target node has an approved host key" in refusal
    assert "n0000" in refusal and "n0999" not in refusal
    assert "and 2,990 more" in refusal
    assert len(refusal) < 400
