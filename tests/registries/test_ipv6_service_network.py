"""A cluster whose service network is IPv6 first (its first --service-cidr is IPv6): K3s puts each node's
embedded registry at [::1]:6443 (RKE2: [::1]:9345), not 127.0.0.1 (k3s pkg/daemons/config/types.go
Loopback). The cluster's form sets it, history records it, and every page that says what K3s makes of
the registries follows it: the hosts.toml and Explain tabs, the registry test's endpoints, a node's checks."""

from __future__ import annotations

import html
import re

import pytest
from django.core.management import call_command

from regui.audit.labels import field_label
from regui.audit.models import AuditEvent
from regui.inventory.models import Node
from regui.k3s import explain_pull
from regui.nodechecks.services import engine_options, node_flags
from regui.registries.importing import registries_import
from regui.registries.models import Cluster
from tests.pages import post_registries

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
LABEL = "Service network is IPv6 first"
FILE = 'mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com:5000"]\n'


def edit(client, cluster, **extra):
    return client.post(f"/clusters/{cluster.name}/edit/", {"name": cluster.name, "distro": cluster.distro,
                                                           "description": "", **extra})


def tabs(client, cluster, **flags) -> str:
    data = {"revision": "0", "_action": "insight", "mirror": ["m1"], "m1-hostname": "docker.io",
            "m1-endpoint": ["e1"], "e1-url": "https://mirror.example.com:5000", "explain_image": "nginx:1.27",
            **flags}
    return html.unescape(post_registries(client, cluster, data, **HX).content.decode())


def test_the_cluster_form_shows_the_setting_beside_the_agent_flags_and_saves_it(operator_client, cluster):
    page = html.unescape(operator_client.get(f"/clusters/{cluster.name}/edit/").content.decode())
    assert page.index('name="embedded_registry"') < page.index('name="ipv6_primary"')
    assert LABEL in page and "or IPv6 only: each node's embedded registry is then at [::1]:6443" in page
    assert edit(operator_client, cluster, ipv6_primary="on").status_code == 302
    cluster.refresh_from_db()
    assert cluster.ipv6_primary and not cluster.embedded_registry
    page = operator_client.get(f"/clusters/{cluster.name}/edit/").content.decode()
    assert re.search(r'<input type="checkbox" name="ipv6_primary"[^>]* checked>', page)


def test_a_new_cluster_is_ipv4_first_unless_told():
    assert Cluster(name="x").ipv6_primary is False


def test_a_viewer_cannot_change_it_even_by_posting_the_form(viewer_client, cluster):
    assert edit(viewer_client, cluster, ipv6_primary="on").status_code == 403
    cluster.refresh_from_db()
    assert not cluster.ipv6_primary
    assert not AuditEvent.objects.filter(object_type="cluster", action="update").exists()


def test_history_records_the_change_under_the_forms_label(operator_client, admin_client, cluster):
    edit(operator_client, cluster, ipv6_primary="on")
    entry = AuditEvent.objects.get(object_type="cluster", action="update")
    assert entry.changes == {"ipv6_primary": [False, True]}
    assert field_label("cluster", "ipv6_primary") == LABEL
    page = admin_client.get(f"/history/{entry.pk}/").content.decode()
    assert f'<th scope="row" title="ipv6_primary">{LABEL}</th>' in page


def test_the_registries_page_previews_with_the_clusters_settings_checked(viewer_client, cluster):
    page = viewer_client.get(f"/clusters/{cluster.name}/").content.decode()
    assert 'name="flag_ipv6" value="1">' in page and 'name="flag_embedded" value="1">' in page
    cluster.ipv6_primary = cluster.embedded_registry = True
    cluster.save()
    page = viewer_client.get(f"/clusters/{cluster.name}/").content.decode()
    assert 'name="flag_ipv6" value="1" checked>' in page and 'name="flag_embedded" value="1" checked>' in page


@pytest.mark.parametrize(("distro", "port"), [("k3s", 6443), ("rke2", 9345)])
def test_the_hosts_and_explain_tabs_name_the_ipv6_loopback_with_it_on(operator_client, cluster, distro, port):
    cluster.distro = distro
    cluster.save()
    on = tabs(operator_client, cluster, flag_embedded="1", flag_ipv6="1")
    assert f"certs.d/[::1]:{port}/hosts.toml" in on and f"https://[::1]:{port}/v2/library/nginx/manifests" in on
    assert "127.0.0.1" not in on
    off = tabs(operator_client, cluster, flag_embedded="1")
    assert f"certs.d/127.0.0.1:{port}/hosts.toml" in off and "[::1]" not in off


@pytest.mark.parametrize(("distro", "port"), [("k3s", 6443), ("rke2", 9345)])
def test_the_registry_tests_endpoints_follow_the_cluster(viewer_client, cluster, distro, port):
    registries_import(cluster=cluster, replace=True, text=FILE)
    cluster.distro, cluster.embedded_registry, cluster.ipv6_primary = distro, True, True
    cluster.save()
    row = html.unescape(viewer_client.get(f"/clusters/{cluster.name}/registries/test/", **HX).content.decode())
    row = row[row.index('data-registry="docker.io"'):]
    assert f"https://[::1]:{port}/v2" in row and "127.0.0.1" not in row
    cluster.ipv6_primary = False
    cluster.save()
    row = html.unescape(viewer_client.get(f"/clusters/{cluster.name}/registries/test/", **HX).content.decode())
    assert f"https://127.0.0.1:{port}/v2" in row and "[::1]" not in row


def test_a_nodes_checks_predict_the_ipv6_loopback_from_its_cluster():
    node = Node(cluster=Cluster(name="prod", embedded_registry=True, ipv6_primary=True), name="a1")
    options = engine_options(node, node_flags(node))
    assert options == {"disable_default_endpoint": False, "embedded_registry": True, "ipv6_primary": True}
    pull = explain_pull(FILE, "nginx:1.27", **options)
    assert pull.attempts[0].urls[0].startswith("https://[::1]:6443/v2/")
    node.cluster.ipv6_primary = False
    assert explain_pull(FILE, "nginx:1.27", **engine_options(node, node_flags(node))).attempts[0].urls[0] \
        .startswith("https://127.0.0.1:6443/v2/")


def test_the_commands_take_it_too(tmp_path, capsys):
    (tmp_path / "registries.yaml").write_text(FILE)
    call_command("render_hosts", str(tmp_path / "registries.yaml"), "--embedded-registry", "--ipv6-primary")
    assert "==> certs.d/[::1]:6443/hosts.toml <==" in capsys.readouterr().out
    call_command("explain_pull", "nginx:1.27", str(tmp_path / "registries.yaml"), "--program", "rke2",
                 "--embedded-registry", "--ipv6-primary")
    assert "1. [" in (out := capsys.readouterr().out) and "https://[::1]:9345/v2/library/nginx/manifests" in out
