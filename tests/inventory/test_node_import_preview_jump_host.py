"""The import preview's Jump host column, for a node the inventory routes through no jump host of its
own, says what the cluster does: "the cluster's (bastion-1)" when the cluster goes through one, "none"
when it does not. It said "the cluster's" for a cluster with no jump host, which reads as if there were one."""

from __future__ import annotations

import re

import pytest

from regui.inventory.credentials.services import credential_create
from regui.inventory.jumphosts.models import JumpHost
from regui.inventory.jumphosts.services import cluster_use_jump_host

pytestmark = pytest.mark.django_db

INVENTORY = "[agent]\nagent-1 ansible_host=10.0.0.21\n"


def jump_column(client) -> str:
    page = client.post("/clusters/prod/nodes/import-inventory/",
                       {"text": INVENTORY, "format": "auto", "ssh_user": "root"}).content.decode()
    row = re.search(r"<tr><td>agent-1</td>(.*?)</tr>", page, re.S)
    assert row, page
    return re.sub(r"<[^>]+>", "", re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)[4]).strip()


def test_a_cluster_without_a_jump_host_reads_none(operator_client, cluster):
    assert jump_column(operator_client) == "none"


def test_a_cluster_with_a_jump_host_names_it(operator_client, cluster, make_user):
    admin = make_user("alice", "admin")
    credential = credential_create(user=admin, name="bastion-key", kind="password", value="pw-for-the-bastion")
    jump = JumpHost.objects.create(name="bastion-1", address="10.0.0.9", port=22, ssh_user="jump",
                                   credential=credential)
    cluster_use_jump_host(cluster=cluster, jump=jump, user=admin)
    assert jump_column(operator_client) == "the cluster's (bastion-1)"
