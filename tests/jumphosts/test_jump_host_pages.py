"""The Jump hosts pages: admins add, change and delete jump hosts and choose them for a cluster or a
node (each routes a credential to a host); operators scan; approval follows REGUI_HOST_KEY_APPROVAL.
Operators and viewers who POST straight to the admin URLs change nothing. History records it all."""

from __future__ import annotations

import pytest

from regui.audit.models import AuditEvent
from regui.inventory.credentials.services import credential_create
from regui.inventory.jumphosts.models import ClusterJumpHost, JumpHost, NodeJumpHost
from regui.inventory.jumphosts.routing import jump_for
from regui.inventory.models import Node
from tests.fakes.fleet import register
from tests.jumphosts.helpers import register_jump_host

pytestmark = pytest.mark.django_db

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\njump page key\n-----END OPENSSH PRIVATE KEY-----\n"
FORM = {"name": "bastion-1", "address": "10.0.0.5", "port": "22", "ssh_user": "jumper", "credential": "jump-key",
        "labels_text": "site=dc1"}


@pytest.fixture
def credential(make_user):
    return credential_create(user=make_user("root-admin", "admin"), name="jump-key", kind="key", value=KEY)


@pytest.fixture
def bastion(fake_ssh, cluster):
    return fake_ssh.jump_host("bastion-1")


def test_an_admin_adds_a_jump_host_and_history_records_it_with_labels(admin_client, credential):
    r = admin_client.post("/jump-hosts/new/", FORM, follow=True)
    page = r.content.decode()
    assert r.status_code == 200 and "Jump host bastion-1 saved." in page and "not approved" not in page
    assert "No approved host key" in page and KEY.splitlines()[1] not in page
    jump = JumpHost.objects.get()
    assert (jump.address, jump.ssh_user, jump.credential.name, jump.labels) == ("10.0.0.5", "jumper", "jump-key",
                                                                              {"site": "dc1"})
    assert jump.address_changed_by == "alice"
    event = AuditEvent.objects.get(object_type="jump_host")
    assert (event.action, event.actor_name, event.object_repr) == ("create", "alice", "bastion-1")
    assert event.changes["credential"] == [None, "jump-key"] and event.changes["address"] == [None, "10.0.0.5"]
    assert "bastion-1" in admin_client.get("/history/?object_type=jump_host").content.decode()
    entry = admin_client.get(f"/history/{event.pk}/").content.decode()
    assert "SSH user" in entry and "Credential" in entry and "jump host" in entry
    assert admin_client.get(f"/history/{event.pk}/object/").url == "/jump-hosts/bastion-1/"


def test_a_bad_port_or_a_missing_credential_is_a_form_error(admin_client, credential):
    r = admin_client.post("/jump-hosts/new/", {**FORM, "port": "70000", "credential": ""})
    page = r.content.decode()
    assert r.status_code == 400 and "Port must be from 1 to 65535." in page and "This field is required." in page
    assert not JumpHost.objects.exists()


def test_moving_a_jump_host_drops_its_approved_key_and_history_says_so(admin_client, bastion):
    jump = register_jump_host(bastion)
    r = admin_client.post("/jump-hosts/bastion-1/edit/", {**FORM, "address": "10.0.0.99", "credential": "bastion-1-key"})
    assert r.status_code == 302
    jump.refresh_from_db()
    assert (jump.address, jump.host_key, jump.host_key_approved_at) == ("10.0.0.99", "", None)
    event = AuditEvent.objects.filter(object_type="jump_host").latest("id")
    assert event.changes["host_key"] == [f"ssh-ed25519 {bastion.host_key.fingerprint}", None]
    assert "approved host key was dropped" in event.message


def test_renaming_or_relabelling_keeps_the_key(admin_client, bastion):
    jump = register_jump_host(bastion)
    admin_client.post("/jump-hosts/bastion-1/edit/", {**FORM, "address": bastion.address, "ssh_user": "jumper",
                                                       "name": "bastion-one", "credential": "bastion-1-key"})
    jump.refresh_from_db()
    assert jump.name == "bastion-one" and jump.has_approved_key


@pytest.mark.parametrize("client_name", ["operator_client", "viewer_client"])
def test_below_admin_nobody_adds_changes_deletes_or_chooses_a_jump_host(request, client_name, bastion, cluster,
                                                                         fake_ssh, credential):
    client = request.getfixturevalue(client_name)
    jump = register_jump_host(bastion)
    node = register(cluster, fake_ssh.node("n1"))
    attempts = [("/jump-hosts/new/", {**FORM, "name": "evil", "address": "203.0.113.66"}),
                ("/jump-hosts/bastion-1/edit/", {**FORM, "address": "203.0.113.66", "credential": "jump-key"}),
                ("/jump-hosts/bastion-1/delete/", {}),
                ("/clusters/prod/jump-host/", {"jump_host": "bastion-1"}),
                (f"/clusters/prod/nodes/{node.pk}/jump-host/", {"jump_host": "bastion-1"})]
    for url, data in attempts:
        assert client.post(url, data).status_code == 403, url
    assert client.get("/jump-hosts/new/").status_code == 403
    jump.refresh_from_db()
    assert (jump.address, jump.credential.name, JumpHost.objects.count()) == (bastion.address, "bastion-1-key", 1)
    assert not ClusterJumpHost.objects.exists() and not NodeJumpHost.objects.exists()
    assert jump_for(Node.objects.get(pk=node.pk)) is None


def test_an_operator_sees_the_pages_without_the_admin_buttons(operator_client, bastion):
    register_jump_host(bastion)
    listing = operator_client.get("/jump-hosts/").content.decode()
    detail = operator_client.get("/jump-hosts/bastion-1/").content.decode()
    assert "bastion-1" in listing and "Add jump host" not in listing
    assert "Scan host key" in detail and "/jump-hosts/bastion-1/edit/" not in detail


def test_an_admin_chooses_a_clusters_jump_host_and_history_records_it(admin_client, bastion, cluster, fake_ssh):
    jump = register_jump_host(bastion)
    node = register(cluster, fake_ssh.node("n1"))
    r = admin_client.post("/clusters/prod/jump-host/", {"jump_host": "bastion-1"}, follow=True)
    assert "The nodes of prod are reached through bastion-1" in r.content.decode()
    assert jump_for(Node.objects.get(pk=node.pk)) == jump
    event = AuditEvent.objects.filter(object_type="cluster").latest("id")
    assert event.changes == {"jump host": [None, "bastion-1"]} and event.actor_name == "alice"
    page = admin_client.get(f"/clusters/prod/nodes/{node.pk}/").content.decode()
    assert "through jump host" in page and "as its cluster" in page
    admin_client.post("/clusters/prod/jump-host/", {"jump_host": ""})
    assert jump_for(Node.objects.get(pk=node.pk)) is None


def test_an_admin_sets_a_nodes_own_choice_over_its_clusters(admin_client, bastion, cluster, fake_ssh):
    register_jump_host(bastion, cluster=cluster)
    other = register_jump_host(fake_ssh.jump_host("bastion-2"))
    node = register(cluster, fake_ssh.node("n1"))
    url = f"/clusters/prod/nodes/{node.pk}/jump-host/"
    assert "the cluster&#x27;s (bastion-1)" in admin_client.get(url).content.decode()
    r = admin_client.post(url, {"jump_host": "bastion-2"}, follow=True)
    assert "n1 is reached through bastion-2." in r.content.decode()
    assert jump_for(Node.objects.get(pk=node.pk)) == other
    admin_client.post(url, {"jump_host": ""})
    assert jump_for(Node.objects.get(pk=node.pk)) is None  # directly, though the cluster has one
    admin_client.post(url, {"jump_host": ":cluster"})
    assert jump_for(Node.objects.get(pk=node.pk)).name == "bastion-1"
    changes = [e.changes["jump host"] for e in AuditEvent.objects.filter(object_type="node").order_by("id")
               if "jump host" in e.changes]
    assert changes == [["the cluster's (bastion-1)", "bastion-2"], ["bastion-2", "none (directly)"],
                       ["none (directly)", "the cluster's (bastion-1)"]]


def test_a_jump_host_in_use_is_not_deleted(admin_client, bastion, cluster):
    register_jump_host(bastion, cluster=cluster)
    r = admin_client.post("/jump-hosts/bastion-1/delete/", follow=True)
    assert "bastion-1 is used by cluster prod" in r.content.decode() and JumpHost.objects.exists()
    ClusterJumpHost.objects.all().delete()
    admin_client.post("/jump-hosts/bastion-1/delete/")
    assert not JumpHost.objects.exists()
    assert AuditEvent.objects.filter(object_type="jump_host", action="delete").exists()


def test_an_operator_scans_but_only_an_admin_approves_by_default(operator_client, admin_client, bastion):
    jump = register_jump_host(bastion, approve=False)
    r = operator_client.post("/jump-hosts/bastion-1/scan/", follow=True)
    assert f"bastion-1 presents ssh-ed25519 {bastion.host_key.fingerprint}" in r.content.decode()
    assert "Only an admin can approve a jump host" in r.content.decode()
    operator_client.post("/jump-hosts/bastion-1/approve/", {"fingerprint": bastion.host_key.fingerprint})
    jump.refresh_from_db()
    assert not jump.has_approved_key
    admin_client.post("/jump-hosts/bastion-1/approve/", {"fingerprint": bastion.host_key.fingerprint})
    jump.refresh_from_db()
    assert jump.has_approved_key and jump.host_key == bastion.host_key.key and jump.host_key_approved_by == "alice"
    event = AuditEvent.objects.get(object_type="jump_host", action="approve_key")
    assert event.changes["host_key"] == [None, f"ssh-ed25519 {bastion.host_key.fingerprint}"]


def test_under_two_person_approval_an_operator_approves_a_jump_host_an_admin_set(operator_client, bastion, settings):
    settings.REGUI_HOST_KEY_APPROVAL = "two-person"
    jump = register_jump_host(bastion, approve=False)
    JumpHost.objects.filter(pk=jump.pk).update(address_changed_by="alice")
    operator_client.post("/jump-hosts/bastion-1/scan/")
    operator_client.post("/jump-hosts/bastion-1/approve/", {"fingerprint": bastion.host_key.fingerprint})
    jump.refresh_from_db()
    assert jump.has_approved_key and jump.host_key_approved_by == "olivia"


def test_a_changed_key_on_rescan_is_shown_not_trusted(operator_client, bastion, fake_ssh):
    jump = register_jump_host(bastion)
    bastion.host_key = fake_ssh.jump_host("spare").host_key
    r = operator_client.post("/jump-hosts/bastion-1/scan/", follow=True)
    assert "not the approved" in r.content.decode() and "This differs from the approved key." in r.content.decode()
    jump.refresh_from_db()
    assert jump.host_key != bastion.host_key.key


def test_an_unreachable_jump_host_scan_says_which(operator_client, bastion):
    register_jump_host(bastion)
    bastion.network = "refused"
    r = operator_client.post("/jump-hosts/bastion-1/scan/", follow=True)
    assert f"Scan failed: jump host bastion-1 ({bastion.address}:22): cannot connect" in r.content.decode()


def test_a_stale_fingerprint_is_not_approved(admin_client, bastion):
    jump = register_jump_host(bastion, approve=False)
    admin_client.post("/jump-hosts/bastion-1/scan/")
    r = admin_client.post("/jump-hosts/bastion-1/approve/", {"fingerprint": "SHA256:other"}, follow=True)
    assert "no longer the scanned one" in r.content.decode()
    jump.refresh_from_db()
    assert not jump.has_approved_key


def test_a_bad_choice_is_a_form_error_and_an_unknown_jump_host_a_404(admin_client, cluster, fake_ssh):
    node = register(cluster, fake_ssh.node("n1"))
    r = admin_client.post(f"/clusters/prod/nodes/{node.pk}/jump-host/", {"jump_host": "no-such"})
    assert r.status_code == 400 and "Select a valid choice" in r.content.decode()
    r = admin_client.post("/clusters/prod/jump-host/", {"jump_host": "no-such"})
    assert r.status_code == 400 and "Select a valid choice" in r.content.decode()
    assert admin_client.get("/jump-hosts/no-such/").status_code == 404
    assert admin_client.post("/jump-hosts/no-such/scan/").status_code == 404
    assert admin_client.post("/jump-hosts/new/", {**FORM, "name": "new"}).status_code == 400
    assert not NodeJumpHost.objects.exists() and not ClusterJumpHost.objects.exists()
