"""The pull test's help names what wrote the hosts.toml files on the node: on an RKE2 cluster's node
page it said "the hosts.toml files K3s wrote"."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from regui.registries.models import Cluster

pytestmark = pytest.mark.django_db


def test_an_rke2_nodes_pull_test_does_not_say_k3s_wrote_its_files(operator_client):
    cluster = Cluster.objects.create(name="edge", distro="rke2")
    node = Node.objects.create(cluster=cluster, name="s1", address="10.20.0.21", role="server")
    card = operator_client.get(f"/clusters/edge/nodes/{node.pk}/checks/").content.decode()
    assert "Test a pull</button>" in card and "files K3s wrote" not in card
