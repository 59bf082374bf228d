"""A Rancher user expects Save to roll the file out (Rancher's Save restarts every node). regui's Save
changes no node: the saved message says so and leads to the push, whose plan comes first."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from tests.pages import mirror_form, post_registries

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def test_a_save_says_no_node_changes_until_a_push_and_links_to_its_plan(operator_client, cluster):
    for i in (1, 2):
        Node.objects.create(cluster=cluster, name=f"n{i}", address=f"10.0.0.{i}")
    html = post_registries(operator_client, cluster, mirror_form(), **HX).content.decode()
    assert f"Registries of {cluster.name} saved as revision 1." in html
    assert "No node has it yet: nothing is sent until you push." in html
    assert f'href="/clusters/{cluster.name}/push/confirm/?scope=all"' in html
    assert "Push to all 2 nodes…" in html


def test_a_save_in_a_cluster_without_nodes_says_to_add_them(operator_client, cluster):
    html = post_registries(operator_client, cluster, mirror_form(), **HX).content.decode()
    assert "No node has it yet: add nodes on the Nodes tab, then push." in html
    assert "push/confirm/" not in html


def test_a_save_that_changes_nothing_says_nothing_about_pushing(operator_client, cluster):
    mirror_only = {"mirror": ["m1"], "m1-hostname": "docker.io", "m1-endpoint": ["e1"],
                   "e1-url": "https://mirror.example.com:5000"}
    post_registries(operator_client, cluster, {"revision": "0", **mirror_only}, **HX)
    html = post_registries(operator_client, cluster, {"revision": "1", **mirror_only}, **HX).content.decode()
    assert "Nothing changed" in html and "No node has it yet" not in html


def test_a_save_back_to_what_the_nodes_hold_says_they_have_it_and_offers_no_push(operator_client, cluster):
    def mirror(revision: int, url: str) -> dict:
        return {"revision": str(revision), "mirror": ["m1"], "m1-hostname": "docker.io", "m1-endpoint": ["e1"],
                "e1-url": url}

    post_registries(operator_client, cluster, mirror(0, "https://mirror.example.com:5000"), **HX)
    held = cluster.revisions.get(number=1)
    for i in (1, 2):  # as a push of revision 1 left them
        Node.objects.create(cluster=cluster, name=f"n{i}", address=f"10.0.0.{i}", sync_state=Node.Sync.IN_SYNC,
                            last_sha256=held.sha256, last_sync_key=held.sync_key)
    Node.objects.create(cluster=cluster, name="n3", address="10.0.0.3")  # never pushed
    html = post_registries(operator_client, cluster, mirror(1, "https://other.example.com"), **HX).content.decode()
    assert "No node has it yet" in html
    html = post_registries(operator_client, cluster, mirror(2, "https://mirror.example.com:5000"), **HX).content.decode()
    assert "saved as revision 3." in html and "No node has it yet" not in html
    assert "2 of 3 nodes have it already (the file they last got from regui); a push sends it to the others." in html
    assert "Push to all 3 nodes…" in html
    Node.objects.filter(name="n3").delete()
    post_registries(operator_client, cluster, mirror(3, "https://other.example.com"), **HX)
    html = post_registries(operator_client, cluster, mirror(4, "https://mirror.example.com:5000"), **HX).content.decode()
    assert "Both nodes have it already (the file they last got from regui): nothing to push." in html
    assert "push/confirm/" not in html


def test_a_save_without_htmx_says_the_same_in_its_message(operator_client, cluster):
    data = {"revision": "0", "mirror": ["m1"], "m1-hostname": "docker.io", "m1-endpoint": ["e1"],
            "e1-url": "https://mirror.example.com:5000"}
    Node.objects.create(cluster=cluster, name="n1", address="10.0.0.1")
    page = post_registries(operator_client, cluster, data, follow=True).content.decode()
    assert "No node has it yet: nothing is sent until you push." in page
    held = cluster.revisions.get(number=1)
    Node.objects.update(sync_state=Node.Sync.IN_SYNC, last_sha256=held.sha256, last_sync_key=held.sync_key)
    post_registries(operator_client, cluster, {**data, "revision": "1", "e1-url": "https://other.example.com"})
    page = post_registries(operator_client, cluster, {**data, "revision": "2"}, follow=True).content.decode()
    assert "Every node has it already (the file it last got from regui): nothing to push." in page
