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
