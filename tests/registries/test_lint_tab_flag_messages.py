"""The Registries page's Lint tab says what the cluster's nodes make of a mirror without endpoints and of a
configs key equal to a mirror's, from the flags they run K3s with (the cluster's, a node's own): nothing
without the embedded registry, peer-to-peer sharing with it; the --disable-default-registry-endpoint
warning only where a node runs that flag (regui/k3s/linter_mirrors.py)."""

from __future__ import annotations

import html

import pytest

from regui.inventory.models import Node
from tests.pages import post_registries

pytestmark = pytest.mark.django_db

FORM = {"revision": "0", "mirror": ["m1", "m2"], "m1-hostname": "docker.io",
        "m2-hostname": "q.io", "m2-endpoint": ["e1"], "e1-url": "https://m.example.com",
        "config": ["c1"], "c1-hostname": "q.io", "c1-insecure_skip_verify": "on"}
NO_EFFECT = "run without the embedded registry: K3s writes no hosts.toml for it"
SHARED = "with --embedded-registry, which the cluster's nodes run, it opts docker.io into peer-to-peer sharing"
KEEPS_UPSTREAM = "does not remove q.io's upstream: configs has the same key"


def lint_tab(client, cluster) -> str:
    r = post_registries(client, cluster, {**FORM, "_action": "insight"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    return html.unescape(r.content.decode())


def test_a_cluster_without_the_flags_is_told_the_empty_mirror_does_nothing_and_no_flag_warning(operator_client,
                                                                                              cluster):
    page = lint_tab(operator_client, cluster)
    assert NO_EFFECT in page and "it opts docker.io into peer-to-peer sharing (containerd" not in page
    assert "configs has the same key" not in page and "--disable-default-registry-endpoint" not in page


def test_a_cluster_with_both_flags_is_told_of_sharing_pulls_from_peers_only_and_the_kept_upstream(operator_client,
                                                                                                  cluster):
    cluster.embedded_registry = cluster.disable_default_registry_endpoint = True
    cluster.save(update_fields=["embedded_registry", "disable_default_registry_endpoint"])
    page = lint_tab(operator_client, cluster)
    assert SHARED in page and "pulls fail when no peer has the image" in page and NO_EFFECT not in page
    assert f"--disable-default-registry-endpoint, which the cluster's nodes run, {KEEPS_UPSTREAM}" in page


def test_one_node_running_its_own_flags_is_told_apart_from_the_others(operator_client, cluster):
    Node.objects.create(cluster=cluster, name="a1", address="192.0.2.10", embedded_registry=True,
                        disable_default_registry_endpoint=True)
    page = lint_tab(operator_client, cluster)
    assert "which some of the cluster's nodes run, it opts docker.io into peer-to-peer sharing" in page
    assert "On the nodes without the embedded registry K3s writes no hosts.toml for it" in page
    assert f"--disable-default-registry-endpoint, which some of the cluster's nodes run, {KEEPS_UPSTREAM}" in page
