"""Node inventory pages: add, edit (credential write-only), bulk add, roles."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from regui.inventory.services import parse_bulk
from tests.keys import ssh_key

pytestmark = pytest.mark.django_db

KEY = ssh_key()


def node_data(**extra):
    d = {"name": "server-1", "address": "10.250.0.11", "port": "22", "role": "server", "ssh_user": "root",
         "credential_kind": "key", "credential": KEY, "labels_text": "zone=a, gpu"}
    d.update(extra)
    return d


def test_an_operator_adds_a_node_and_the_key_is_stored_encrypted(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/nodes/new/", node_data())
    node = Node.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/clusters/{cluster.name}/nodes/{node.pk}/"
    assert node.unseal_credential() == KEY and "PRIVATE KEY" not in node.sealed
    assert node.labels == {"zone": "a", "gpu": ""}
    assert node.service == "k3s"


def test_the_credential_is_never_shown_and_blank_keeps_it(operator_client, cluster):
    operator_client.post(f"/clusters/{cluster.name}/nodes/new/", node_data())
    node = Node.objects.get()
    page = operator_client.get(f"/clusters/{cluster.name}/nodes/{node.pk}/edit/").content.decode()
    assert not any(line in page for line in KEY.splitlines()[1:-1])
    operator_client.post(f"/clusters/{cluster.name}/nodes/{node.pk}/edit/", node_data(credential="", role="agent"))
    node.refresh_from_db()
    assert node.role == "agent" and node.unseal_credential() == KEY


def test_it_validates_node_fields(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/nodes/new/",
                             node_data(port="70000", credential="not a key", use_sudo="on"))
    page = r.content.decode()
    assert "Port must be from 1 to 65535." in page
    assert "does not look like a private key" in page and "root needs no sudo" in page
    assert not Node.objects.exists()


def test_bulk_add_parses_name_address_port_role_lines():
    lines, errors = parse_bulk("s1 10.0.0.1 server\n# comment\n\na1 10.0.0.2:2222 agent\nbad line\n"
                               "a2 [fd00::2]:22 agent\na1 10.0.0.9 agent\nx 1.2.3.4:99999 agent")
    assert [(ln.name, ln.address, ln.port, ln.role) for ln in lines[:3]] == [
        ("s1", "10.0.0.1", 22, "server"), ("a1", "10.0.0.2", 2222, "agent"), ("a2", "fd00::2", 22, "agent")]
    assert any("line 5" in e for e in errors) and any("'a1' appears more than once" in e for e in errors)
    assert any("out of range" in e for e in errors)


def test_bulk_add_creates_every_node_or_none(operator_client, cluster):
    url = f"/clusters/{cluster.name}/nodes/bulk/"
    base = {"ssh_user": "deploy", "use_sudo": "on", "credential_kind": "password", "credential": "pw-123"}
    bad = operator_client.post(url, {**base, "lines": "s1 10.0.0.1 server\noops"})
    assert bad.status_code == 400 and not Node.objects.exists()
    ok = operator_client.post(url, {**base, "lines": "s1 10.0.0.1 server\na1 10.0.0.2:2222 agent"})
    assert ok.status_code == 302
    assert sorted(Node.objects.values_list("name", "port", "role", "use_sudo")) == [
        ("a1", 2222, "agent", True), ("s1", 22, "server", True)]
    assert Node.objects.get(name="a1").unseal_credential() == "pw-123"


def test_viewers_see_nodes_but_cannot_change_or_push(viewer_client, cluster):
    node = Node.objects.create(cluster=cluster, name="n1", address="10.0.0.1")
    assert viewer_client.get(f"/clusters/{cluster.name}/nodes/").status_code == 200
    page = viewer_client.get(f"/clusters/{cluster.name}/nodes/{node.pk}/").content.decode()
    assert "Scan host key" not in page
    for path in ("push", "scan", "approve", "edit", "delete", "import"):
        assert viewer_client.post(f"/clusters/{cluster.name}/nodes/{node.pk}/{path}/").status_code == 403, path
    assert viewer_client.post(f"/clusters/{cluster.name}/push/", {"scope": "all"}).status_code == 403


def test_rke2_services_follow_the_role(cluster):
    cluster.distro = "rke2"
    cluster.save()
    assert Node(cluster=cluster, role="server").service == "rke2-server"
    assert Node(cluster=cluster, role="agent").service == "rke2-agent"
    cluster.distro = "k3s"
    assert Node(cluster=cluster, role="agent").service == "k3s-agent"


def test_approving_needs_the_fingerprint_that_was_shown(admin_client, cluster):
    node = Node.objects.create(cluster=cluster, name="n1", address="10.0.0.1", scanned_key="AAAA",
                               scanned_key_type="ssh-ed25519", scanned_fingerprint="SHA256:shown")
    admin_client.post(f"/clusters/{cluster.name}/nodes/{node.pk}/approve/", {"fingerprint": "SHA256:other"})
    node.refresh_from_db()
    assert not node.has_approved_key
    admin_client.post(f"/clusters/{cluster.name}/nodes/{node.pk}/approve/", {"fingerprint": "SHA256:shown"})
    node.refresh_from_db()
    assert node.has_approved_key and node.host_key_approved_by == "alice"


def test_an_empty_or_invalid_render_is_never_pushed(operator_client, cluster):
    from regui.pushes.models import PushJob

    Node.objects.create(cluster=cluster, name="n1", address="10.0.0.1")
    r = operator_client.post(f"/clusters/{cluster.name}/push/", {"scope": "all"}, follow=True)
    assert r.status_code == 409 and "an empty file is never pushed" in r.content.decode()
    assert not PushJob.objects.exists(), "the push form shows the plan first, which refuses it"
    from regui.pushes.services import push_job_create

    job = push_job_create(cluster=cluster)
    assert job.status == "refused" and "an empty file is never pushed" in job.message and not job.results.exists()
