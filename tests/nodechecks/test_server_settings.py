"""Read settings from a server (regui/nodechecks/server_settings.py): on fake nodes (tests/fakes/), the
cluster's page reads the service network's IP family and the two registry flags on an approved server,
shows them next to the cluster's settings, and applies the differences with a history entry; refusals
and failures are messages on the page, and a viewer can do neither."""

from __future__ import annotations

import pytest
from django.test import Client

from regui.audit.models import AuditEvent
from regui.nodechecks.models import SettingsRead
from regui.registries.models import Cluster
from tests.fakes.k3s import write_config
from tests.fakes.kubectl import set_cluster_ip

pytestmark = pytest.mark.django_db(transaction=True)
HX = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(cluster: Cluster, action: str = "") -> str:
    return f"/clusters/{cluster.name}/server-settings/{action + '/' if action else ''}"


def read_now(checks, user=None):
    """Press "Read settings from a server" as htmx does; the task runs here (Celery eager)."""
    response = client_for(user or checks.user).post(url(checks.cluster, "read"), **HX)
    return response, SettingsRead.objects.filter(cluster=checks.cluster).first()


def connects(checks) -> int:
    return sum(len(n.connects) for n in checks.fake.nodes.values())


def test_the_server_says_ipv6_first_and_both_flags_on_and_the_page_shows_what_differs(checks):
    (server,) = checks.add("server")
    checks.add("agent")
    set_cluster_ip(checks["s1"], "fd00:43::1")
    write_config(checks["s1"], "token: not-for-regui\nembedded-registry: true\n")
    write_config(checks["s1"], "disable-default-registry-endpoint: true\n", name="50-registry.yaml")
    response, read = read_now(checks)
    assert response.status_code == 200
    assert (read.state, read.node_name, read.cluster_ip) == ("done", "s1", "fd00:43::1"), read.message
    assert {k: v["value"] for k, v in read.found.items()} == {
        "ipv6_primary": True, "embedded_registry": True, "disable_default_registry_endpoint": True}
    assert read.found["disable_default_registry_endpoint"]["source"] == (
        "/etc/rancher/k3s/config.yaml.d/50-registry.yaml: disable-default-registry-endpoint: true")
    assert "not-for-regui" not in str(read.found) + read.message
    assert [c.split(" --")[0] for c in checks["s1"].kubectl_calls()] == ["get service kubernetes"]
    assert checks["a1"].connects == [], "agents are not asked"
    page = client_for(checks.user).get(url(checks.cluster), **HX).content.decode()
    assert page.count('data-differs="1"') == 3
    assert "the kubernetes service&#x27;s ClusterIP fd00:43::1 is IPv6" in page
    assert "Apply the differences (Service network is IPv6 first on, --embedded-registry on, " in page


def test_applying_sets_the_clusters_settings_records_who_and_the_preview_starts_from_them(checks):
    checks.add("server")
    set_cluster_ip(checks["s1"], "fd00:43::1")
    write_config(checks["s1"], "embedded-registry: true\n")
    _, read = read_now(checks)
    page = client_for(checks.user).get(url(checks.cluster), **HX)
    response = client_for(checks.user).post(url(checks.cluster, "apply"), {"version": page.context["version"]}, **HX)
    body = response.content.decode()
    assert response.status_code == 200, body
    assert "Applied: Service network is IPv6 first on, --embedded-registry on." in body
    assert 'id="preview-flags" hx-swap-oob="true"' in body and 'name="flag_ipv6" value="1" checked' in body
    assert response["HX-Trigger-After-Settle"] == '{"regui:changed": {"target": "body"}}'
    cluster = Cluster.objects.get(pk=checks.cluster.pk)
    assert (cluster.ipv6_primary, cluster.embedded_registry, cluster.disable_default_registry_endpoint) == (
        True, True, False)
    entry = AuditEvent.objects.filter(object_type="cluster", cluster_id_ref=cluster.pk).latest("pk")
    assert entry.actor_name == "olivia"
    assert entry.changes == {"embedded_registry": [False, True], "ipv6_primary": [False, True]}
    assert entry.message.startswith("Applied what was read on server s1 (")
    registries = client_for(checks.user).get(f"/clusters/{cluster.name}/").content.decode()
    assert 'name="flag_ipv6" value="1" checked' in registries and 'name="flag_embedded" value="1" checked' in registries
    assert 'data-differs="1"' not in client_for(checks.user).get(url(cluster), **HX).content.decode()


def test_apply_refuses_when_the_settings_were_read_again_since_the_page_showed_them(checks):
    checks.add("server")
    write_config(checks["s1"], "embedded-registry: true\n")
    read_now(checks)
    shown = client_for(checks.user).get(url(checks.cluster), **HX).context["version"]
    write_config(checks["s1"], "embedded-registry: false\n")
    read_now(checks)
    response = client_for(checks.user).post(url(checks.cluster, "apply"), {"version": shown}, **HX)
    assert response.status_code == 409, "a conflict with the read since, swapped in by base.html's htmx-config"
    assert "Nothing was applied: the settings were read again meanwhile" in response.content.decode()
    assert Cluster.objects.get(pk=checks.cluster.pk).embedded_registry is False
    again = client_for(checks.user).post(url(checks.cluster, "apply"), {"version": shown}, **HX)
    assert "Nothing was applied" in again.content.decode()


def test_a_viewer_may_look_but_neither_read_nor_apply_and_no_ssh_is_made(checks, make_user):
    checks.add("server")
    write_config(checks["s1"], "embedded-registry: true\n")
    viewer = client_for(make_user("vera", "viewer"))
    assert viewer.post(url(checks.cluster, "read"), **HX).status_code == 403
    assert viewer.post(url(checks.cluster, "read")).status_code == 403
    assert connects(checks) == 0 and not SettingsRead.objects.exists()
    read_now(checks)
    version = client_for(checks.user).get(url(checks.cluster), **HX).context["version"]
    assert viewer.post(url(checks.cluster, "apply"), {"version": version}, **HX).status_code == 403
    assert Cluster.objects.get(pk=checks.cluster.pk).embedded_registry is False
    page = viewer.get(url(checks.cluster), **HX).content.decode()
    assert 'data-differs="1"' in page, "a viewer sees what was read"
    assert "server-settings-read" not in page and "server-settings-apply" not in page, "but no button"
    assert client_for(make_user("ada", "admin")).post(url(checks.cluster, "read"), **HX).status_code == 200


def test_the_registries_page_loads_the_section_for_every_role(checks, make_user):
    page = client_for(make_user("vera", "viewer")).get(f"/clusters/{checks.cluster.name}/").content.decode()
    assert f'hx-get="/clusters/{checks.cluster.name}/server-settings/"' in page


def test_rke2_is_read_with_its_bundled_kubectl_and_its_config_files(checks):
    Cluster.objects.filter(pk=checks.cluster.pk).update(distro="rke2")
    checks.cluster.refresh_from_db()
    checks.add("server")
    write_config(checks["s1"], "disable-default-registry-endpoint: yes\n", distro="rke2")
    _, read = read_now(checks)
    assert read.state == "done", read.message
    assert read.found["disable_default_registry_endpoint"] == {
        "value": True, "source": "/etc/rancher/rke2/config.yaml: disable-default-registry-endpoint: yes"}
    assert read.found["ipv6_primary"]["value"] is False
    (call,) = checks["s1"].kubectl_calls()  # RKE2's kubectl, under the fake node's root
    assert call.startswith("--kubeconfig ") and "/etc/rancher/rke2/rke2.yaml get service kubernetes " in call


# --- refusals and failures: messages on the page ------------------------------------------------------


def test_a_cluster_without_a_server_node_is_told_so_and_nothing_is_sent(checks):
    checks.add("agent")
    response, read = read_now(checks)
    assert response.status_code == 400 and read is None
    assert ("Nothing was read: the cluster has no server node (the settings are read with a server&#x27;s kubectl "
            "and config files): add one on the Nodes tab.") in response.content.decode()
    plain = client_for(checks.user).post(url(checks.cluster, "read"), follow=True)  # without htmx: the page says it
    assert plain.redirect_chain[-1][0] == f"/clusters/{checks.cluster.name}/"
    assert "Nothing was read: the cluster has no server node" in plain.content.decode()
    assert connects(checks) == 0


def test_only_an_approved_server_is_connected_to(checks):
    checks.add("server", approve=False)
    response, read = read_now(checks)
    body = response.content.decode()
    assert response.status_code == 400 and read is None
    assert "Nothing was read: no server node regui may connect to: s1: no approved host key" in body
    assert connects(checks) == 0
    checks.add("server")  # s2, approved: the one asked
    _, read = read_now(checks)
    assert (read.state, read.node_name) == ("done", "s2")
    assert checks["s1"].connects == [] and len(checks["s2"].connects) == 1


def test_a_host_key_that_changed_since_approval_sends_nothing_and_says_so(checks):
    checks.add("server")
    checks["s1"].rotate_host_key()
    _, read = read_now(checks)
    assert read.state == "failed"
    assert read.message.startswith("Nothing was read on s1: ") and "host key" in read.message
    assert checks["s1"].kubectl_calls() == []


def test_a_refused_connection_is_the_reads_message_on_the_page(checks):
    checks.add("server")
    checks["s1"].network = "refused"
    response, read = read_now(checks)
    assert response.status_code == 200 and read.state == "failed"
    assert "Connection refused" in read.message
    page = client_for(checks.user).get(url(checks.cluster), **HX).content.decode()
    assert 'id="server-settings-message"' in page and "Connection refused" in page


def test_a_missing_kubectl_leaves_the_service_network_unread_and_the_flags_still_read(checks):
    checks.add("server")
    (checks["s1"].root / "bin" / "k3s").unlink()
    write_config(checks["s1"], "embedded-registry: true\n")
    _, read = read_now(checks)
    assert read.state == "done"
    assert read.found["ipv6_primary"] == {"value": None, "source": "not read: the server has no bundled kubectl (no "
                                          "`k3s` command); is k3s installed there, and is it a server?"}
    assert read.found["embedded_registry"]["value"] is True
    assert "Not read: Service network is IPv6 first (see why below); regui keeps the cluster's setting" in read.message
    page = client_for(checks.user).get(url(checks.cluster), **HX).content.decode()
    assert "Apply the differences (--embedded-registry on)" in page, "only what was read is offered"


def test_kubectl_that_cannot_reach_the_api_says_its_error(checks):
    checks.add("server")
    checks["s1"].break_kubectl()
    _, read = read_now(checks)
    assert read.found["ipv6_primary"]["source"] == ("not read: k3s kubectl failed (exit status 1): The connection "
                                                    "to the server 127.0.0.1:6443 was refused")


def test_an_answer_that_is_not_an_address_and_an_output_that_is_not_the_programs_are_not_read(checks):
    checks.add("server")
    set_cluster_ip(checks["s1"], "<html>proxy error</html>")
    _, read = read_now(checks)
    assert read.found["ipv6_primary"]["value"] is None
    assert "answered '<html>proxy error</html>' for the kubernetes service's ClusterIP" in read.found["ipv6_primary"][
        "source"]
    checks["s1"].shell = ["sh", "-c", "echo 'Welcome to the node'"]
    _, read = read_now(checks)
    assert read.state == "done" and {f["value"] for f in read.found.values()} == {None}
    page = client_for(checks.user).get(url(checks.cluster), **HX).content.decode()
    assert "server-settings-apply" not in page and page.count("not read") >= 3


def test_a_read_already_queued_is_not_queued_twice(checks, settings):
    checks.add("server")
    from regui.celery import app

    app.conf.task_always_eager = False
    try:
        from regui.nodechecks.server_settings import settings_read_request

        first = settings_read_request(cluster=checks.cluster, user=checks.user)
        second = settings_read_request(cluster=checks.cluster, user=checks.user)
    finally:
        app.conf.task_always_eager = True
    assert first.pk == second.pk and second.state == "queued"
