"""Where a cluster is known, the lint checks the hosts.toml files its nodes write, as they run K3s: the
cluster's --embedded-registry, and a node's own setting where it differs. A "*" mirror beside a
`_default` one makes a file that is not TOML only with the embedded registry; a cluster without it was
told (and refused a push) all the same. The Registries page's Lint tab, a push's check and the lint
command on a cluster agree. (The page's save never gets that far: its form refuses `_default` as a host
name; regui.registries.services.draft_problems gives the lint the same flags.)"""

from __future__ import annotations

import html
import io

import pytest
from django.core.management import call_command

from regui.inventory.models import Node
from regui.pushes.files import RenderRefused, check_render
from regui.registries.importing import registries_import
from tests.pages import post_registries

pytestmark = pytest.mark.django_db

MERGED = 'mirrors:\n  "*":\n    endpoint: [https://a]\n  _default:\n    endpoint: [https://b]\n'
NOT_TOML = "certs.d/_default/hosts.toml would not be valid TOML"
FORM = {"revision": "0", "mirror": ["m1", "m2"], "m1-hostname": "*", "m1-endpoint": ["e1"], "e1-url": "https://a",
        "m2-hostname": "_default", "m2-endpoint": ["e2"], "e2-url": "https://b"}


def embedded(cluster) -> None:
    cluster.embedded_registry = True
    cluster.save(update_fields=["embedded_registry"])


def a_node(cluster, **flags) -> Node:
    return Node.objects.create(cluster=cluster, name="a1", address="192.0.2.10", **flags)


def lint_tab(client, cluster, **extra) -> str:
    r = post_registries(client, cluster, {**FORM, "_action": "insight", **extra}, HTTP_HX_REQUEST="true")
    return html.unescape(r.content.decode())


def push_refusal(cluster) -> str:
    registries_import(cluster=cluster, text=MERGED, replace=True)
    with pytest.raises(RenderRefused) as refused:
        check_render(cluster)  # refused anyway: no image can name `_default` (mirror-key-never-matches)
    return str(refused.value)


def test_a_cluster_without_the_embedded_registry_is_not_told_of_a_file_only_it_breaks(operator_client, cluster):
    page = lint_tab(operator_client, cluster)
    assert "certs.d/_default/hosts.toml" in page and NOT_TOML not in page
    assert NOT_TOML not in push_refusal(cluster)


def test_a_cluster_with_the_embedded_registry_is_told_everywhere(operator_client, cluster):
    embedded(cluster)
    assert f"{NOT_TOML} with --embedded-registry" in lint_tab(operator_client, cluster)
    assert NOT_TOML in push_refusal(cluster)


def test_the_preview_flags_try_other_files_but_the_lint_stays_with_the_nodes(operator_client, cluster):
    page = lint_tab(operator_client, cluster, flag_embedded="1")
    assert "certs.d/127.0.0.1:6443/hosts.toml" in page and NOT_TOML not in page


def test_a_node_that_runs_the_embedded_registry_on_its_own_is_enough(operator_client, cluster):
    a_node(cluster, embedded_registry=True)
    assert NOT_TOML in lint_tab(operator_client, cluster)
    assert NOT_TOML in push_refusal(cluster)


def test_a_node_that_turns_it_off_leaves_the_clusters_other_nodes_told(operator_client, cluster):
    embedded(cluster)
    a_node(cluster, embedded_registry=False)
    assert NOT_TOML in push_refusal(cluster)


def test_the_lint_command_on_a_cluster_uses_its_flags_and_on_a_file_checks_both(cluster, tmp_path):
    registries_import(cluster=cluster, text=MERGED, replace=True)

    def lint_output(*args: str) -> str:
        out = io.StringIO()
        with pytest.raises(SystemExit):  # the file has errors either way (mirror-key-never-matches)
            call_command("lint_registries", *args, stdout=out)
        return out.getvalue()

    assert NOT_TOML not in lint_output("--cluster", cluster.name)
    embedded(cluster)
    assert NOT_TOML in lint_output("--cluster", cluster.name)
    (tmp_path / "registries.yaml").write_text(MERGED)
    assert NOT_TOML in lint_output(str(tmp_path / "registries.yaml"))
