"""A viewer in Chromium reads on the node list which nodes go through a jump host ("via bastion-1", the
cluster's; "via bastion-2", a node's own; nothing for one reached directly) and follows the link to the
jump host's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_viewer_sees_each_nodes_jump_host_on_the_node_list_and_opens_it(logged_in, live_server):
    from regui.inventory.jumphosts.models import ClusterJumpHost, NodeJumpHost
    from regui.inventory.models import Node
    from regui.registries.models import Cluster
    from tests.jumphosts.test_node_list_names_the_jump_host import jump_host

    cluster = Cluster.objects.create(name="prod", distro="k3s")
    ClusterJumpHost.objects.create(cluster=cluster, jump_host=jump_host("bastion-1"))
    a1, a2, a3 = (Node.objects.create(cluster=cluster, name=f"a{i}", address=f"10.30.0.{i}") for i in (1, 2, 3))
    NodeJumpHost.objects.create(node=a2, jump_host=jump_host("bastion-2"))
    NodeJumpHost.objects.create(node=a3, jump_host=None)
    page = logged_in("victor", "viewer")
    page.goto(f"{live_server.url}/clusters/prod/nodes/")
    expect(page.locator(f"#node-row-{a1.pk} .node-jump")).to_have_text("via bastion-1")
    expect(page.locator(f"#node-row-{a2.pk} .node-jump")).to_have_text("via bastion-2")
    expect(page.locator(f"#node-row-{a3.pk} .node-jump")).to_have_count(0)
    page.locator(f"#node-row-{a2.pk} .node-jump a").click()
    expect(page).to_have_url(f"{live_server.url}/jump-hosts/bastion-2/")
    expect(page.locator("h1")).to_contain_text("bastion-2")
