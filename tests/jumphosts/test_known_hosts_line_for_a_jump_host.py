"""A pasted known_hosts line for a jump host of the cluster (the cluster's, or a node's own) is not
"for no node": the host keys page names the jump host and sends to its page, where its key is approved
under its own rule. Nothing about the jump host is approved from here."""

from __future__ import annotations

import pytest

from regui.inventory.jumphosts.models import JumpHost, NodeJumpHost
from regui.inventory.known_hosts import approve_from_known_hosts
from tests.fakes.fleet import register
from tests.jumphosts.helpers import register_jump_host

pytestmark = pytest.mark.django_db


def line(host) -> str:
    return f"{host.address} {host.host_key.type} {host.host_key.key}"


def test_a_line_for_the_clusters_or_a_nodes_jump_host_names_it(fake_ssh, cluster, admin_client, make_user):
    bastion = fake_ssh.jump_host("bastion-1")
    register_jump_host(bastion, approve=False, cluster=cluster)
    own = fake_ssh.jump_host("bastion-2")
    node = register(cluster, fake_ssh.node("a1"), approve=True)
    NodeJumpHost.objects.create(node=node, jump_host=register_jump_host(own, approve=False), chosen_by="alice")
    elsewhere = fake_ssh.jump_host("bastion-3")  # a jump host no node of this cluster goes through
    register_jump_host(elsewhere, approve=False)

    text = "\n".join([line(bastion), line(own), line(elsewhere)])
    report = approve_from_known_hosts(cluster=cluster, text=text, user=make_user("ada", "admin"))
    assert [(n, j.name) for n, j in report.jump_hosts] == [(1, "bastion-1"), (2, "bastion-2")]
    assert report.unmatched == [3]
    assert not JumpHost.objects.filter(host_key_approved_at__isnull=False).exists()

    page = admin_client.post("/clusters/prod/nodes/host-keys/approve/", {"known_hosts": text}).content.decode()
    assert "Line 1 is for jump host" in page and 'href="/jump-hosts/bastion-1/"' in page
    assert "approve its key on the jump host's page" in page
    assert "Line 3 names no node of prod." in page
