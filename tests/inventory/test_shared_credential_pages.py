"""The pages of shared SSH credentials: admins make and rotate them (value never shown), operators
choose one for a node or for a bulk add."""

from __future__ import annotations

import pytest

from regui.inventory.credentials.models import NodeCredential, SharedCredential
from regui.inventory.credentials.services import credential_create
from regui.inventory.models import Node
from regui.inventory.services import NodeError, node_target
from tests.fakes.fleet import register

pytestmark = pytest.mark.django_db

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nshared page key\n-----END OPENSSH PRIVATE KEY-----\n"


@pytest.fixture
def shared(make_user):
    return credential_create(user=make_user("root-admin", "admin"), name="fleet", kind="key", value=KEY)


def test_an_admin_creates_a_shared_credential_and_its_value_is_never_shown(admin_client):
    r = admin_client.post("/ssh-credentials/", {"name": "fleet", "kind": "password", "value": "pw-page-55"},
                          follow=True)
    page = r.content.decode()
    assert r.status_code == 200 and "Shared credential fleet created." in page
    assert "pw-page-55" not in page
    assert SharedCredential.objects.get().unseal_value() == ("pw-page-55", "")
    assert "pw-page-55" not in admin_client.get("/ssh-credentials/fleet/rotate/").content.decode()


def test_an_admin_rotates_it_on_its_page(admin_client, shared):
    r = admin_client.post("/ssh-credentials/fleet/rotate/", {"kind": "password", "value": "pw-new-66"}, follow=True)
    assert "Rotated fleet" in r.content.decode() and "pw-new-66" not in r.content.decode()
    shared.refresh_from_db()
    assert shared.unseal_value() == ("pw-new-66", "") and shared.kind == "password"


@pytest.mark.parametrize("client_name", ["operator_client", "viewer_client"])
def test_below_admin_nobody_sees_creates_rotates_or_deletes_one(request, client_name, shared):
    client = request.getfixturevalue(client_name)
    assert client.get("/ssh-credentials/").status_code == 403
    assert client.post("/ssh-credentials/", {"name": "x", "kind": "password", "value": "pw"}).status_code == 403
    assert client.post("/ssh-credentials/fleet/rotate/", {"kind": "password", "value": "pw-op"}).status_code == 403
    assert client.post("/ssh-credentials/fleet/delete/").status_code == 403
    shared.refresh_from_db()
    assert shared.unseal_value() == (KEY, "") and SharedCredential.objects.count() == 1


def test_an_operator_chooses_a_shared_credential_for_a_node_and_an_admin_approves_its_key_for_it(
        operator_client, admin_client, fake_ssh, cluster, shared):
    # Approved for the node's own credential, not for the shared one: a node whose sshd the operator
    # controls would receive it (a password in clear, a key's login).
    node = register(cluster, fake_ssh.node("n1", credential=KEY))
    approved = node.host_key_fingerprint
    r = operator_client.post(f"/clusters/prod/nodes/{node.pk}/credential/", {"credential": "fleet"}, follow=True)
    page = r.content.decode()
    assert "n1 now logs in with fleet." in page and "shared credential <strong>fleet</strong>" in page
    assert "Nothing is sent to n1 until an admin approves its host key for the shared credential." in page
    assert KEY.splitlines()[1] not in page
    link = NodeCredential.objects.get(node=node)
    assert (link.credential.name, link.chosen_by) == ("fleet", "olivia")
    with pytest.raises(NodeError, match="no approved host key"):
        node_target(Node.objects.get(pk=node.pk))
    # The key it had waits on its page for an admin, who approves it for the shared credential.
    assert f"Approve {approved[:19]}" in admin_client.get(f"/clusters/prod/nodes/{node.pk}/").content.decode()
    admin_client.post(f"/clusters/prod/nodes/{node.pk}/approve/", {"fingerprint": approved})
    assert node_target(Node.objects.get(pk=node.pk)).private_key == KEY


def test_a_bulk_add_takes_a_shared_credential(operator_client, cluster, shared):
    r = operator_client.post("/clusters/prod/nodes/bulk/", {
        "lines": "s1 10.0.0.1 server\na1 10.0.0.2:2222 agent", "ssh_user": "root", "credential_kind": "key",
        "credential": "", "shared_credential": "fleet"}, follow=True)
    assert "Added 2 node(s)" in r.content.decode()
    nodes = Node.objects.filter(cluster=cluster)
    assert {n.name: (n.sealed, n.shared_credential.credential.name) for n in nodes} == {
        "s1": ("", "fleet"), "a1": ("", "fleet")}


def test_a_bulk_add_without_any_credential_is_refused(operator_client, cluster):
    r = operator_client.post("/clusters/prod/nodes/bulk/", {
        "lines": "s1 10.0.0.1 server", "ssh_user": "root", "credential_kind": "key", "credential": ""})
    assert r.status_code == 400 and "or choose a shared credential" in r.content.decode()


def test_history_shows_the_rotation_by_whom_without_the_value(admin_client, shared):
    admin_client.post("/ssh-credentials/fleet/rotate/", {"kind": "password", "value": "pw-hist-77"})
    from regui.audit.models import AuditEvent

    event = AuditEvent.objects.filter(object_type="ssh_credential").latest("pk")
    assert (event.actor_name, event.message) == ("alice", "rotated")
    for url in ("/history/", f"/history/{event.pk}/", f"/history/{event.pk}/object/"):
        r = admin_client.get(url, follow=True)
        assert r.status_code == 200 and "pw-hist-77" not in r.content.decode(), url


def test_a_node_using_a_shared_credential_is_edited_and_moved_without_typing_one(operator_client, fake_ssh,
                                                                                cluster, shared, make_user):
    from regui.inventory.credentials.services import node_use_credential

    node = register(cluster, fake_ssh.node("n1", credential=KEY))
    node_use_credential(node=node, credential=shared, user=make_user("root-admin-2", "admin"))
    form = {"name": "n1", "address": "198.51.100.7", "port": 22, "role": "agent", "ssh_user": "root",
            "credential_kind": "key", "credential": "", "labels_text": "zone=a",
            "disable_default_registry_endpoint": "unknown", "embedded_registry": "unknown"}
    r = operator_client.post(f"/clusters/prod/nodes/{node.pk}/edit/", form)
    assert r.status_code == 302, r.content.decode()
    node.refresh_from_db()
    assert (node.address, node.labels, node.host_key, node.sealed) == ("198.51.100.7", {"zone": "a"}, "", "")
    assert NodeCredential.objects.get(node=node).credential == shared


def test_typing_a_credential_for_a_node_makes_it_use_its_own_again(operator_client, fake_ssh, cluster, shared,
                                                                   make_user):
    from regui.audit.models import AuditEvent
    from regui.inventory.credentials.services import node_use_credential

    node = register(cluster, fake_ssh.node("n1", credential=KEY))
    node_use_credential(node=node, credential=shared, user=make_user("root-admin-2", "admin"))
    form = {"name": "n1", "address": node.address, "port": 22, "role": "agent", "ssh_user": "root",
            "credential_kind": "password", "credential": "pw-own-5", "labels_text": "",
            "disable_default_registry_endpoint": "unknown", "embedded_registry": "unknown"}
    assert operator_client.post(f"/clusters/prod/nodes/{node.pk}/edit/", form).status_code == 302
    assert not NodeCredential.objects.filter(node=node).exists()
    node = Node.objects.get(pk=node.pk)
    assert node_target(node).password == "pw-own-5"
    event = AuditEvent.objects.filter(object_type="node").latest("pk")
    assert event.changes["shared credential"] == ["fleet", None] and "pw-own-5" not in repr(event.changes)
