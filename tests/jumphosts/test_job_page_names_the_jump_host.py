"""The job page says, per node, that the push went through a jump host ("via bastion-1", as the node
list does), the one it went through then, not the one the node has now; a node reached directly says nothing."""

from __future__ import annotations

import pytest

from regui.inventory.jumphosts.models import NodeJumpHost
from tests.jumphosts.helpers import register_jump_host

pytestmark = pytest.mark.django_db(transaction=True)


def _rows(client, job) -> dict[str, str]:
    import re

    page = client.get(f"/jobs/{job.pk}/").content.decode()
    return {name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
            for name, row in re.findall(r'<tr id="result-([^"]+)" class="result-row">(.*?)</tr>', page, re.S)}


def test_each_node_row_names_the_jump_host_its_push_went_through(fleet, client, make_user):
    host = fleet.fake.jump_host("bastion-1")
    register_jump_host(host, cluster=fleet.cluster)
    a1, a2 = fleet.add("agent", "agent", only_via="bastion-1")
    (a3,) = fleet.add("agent")
    NodeJumpHost.objects.create(node=a3, jump_host=None, chosen_by="alice")  # directly, over the cluster's
    job = fleet.push()
    assert {r.status for r in fleet.results(job).values()} == {"changed"}
    client.force_login(make_user("vera", "viewer"))
    rows = _rows(client, job)
    assert "via bastion-1" in rows["a1"] and "via bastion-1" in rows["a2"]
    assert "via" not in rows["a3"]

    NodeJumpHost.objects.filter(node=a3).delete()  # a3 now goes through the cluster's: the old job still says directly
    NodeJumpHost.objects.create(node=a1, jump_host=None, chosen_by="alice")
    rows = _rows(client, job)
    assert "via bastion-1" in rows["a1"] and "via" not in rows["a3"]
