"""Which hosts regui trusts with a node's credential (and a push's secrets): a host key approved by an
admin, or by a second person under REGUI_HOST_KEY_APPROVAL=two-person; a node pointed elsewhere loses
its credential and its key. Tried as an operator would who wants a secret on a host of their own."""

from __future__ import annotations

import importlib
import runpy
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from regui.audit.context import acting
from regui.audit.models import AuditEvent
from regui.inventory.models import Node
from regui.inventory.services import MOVED, NodeError, node_scan_host_key, node_target
from regui.remote import ssh, transport

pytestmark = pytest.mark.django_db

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-fake-but-shaped\n-----END OPENSSH PRIVATE KEY-----\n"
PASSWORD = "Stored-SSH-Pa55word"


def trusted_node(cluster, *, by: str = "", name: str = "n1", address: str = "10.0.0.1", scanned: bool = False) -> Node:
    """A node with a password, an approved key, and (optionally) a pending scan; `by` set its address."""
    node = Node(cluster=cluster, name=name, address=address, ssh_user="root", credential_kind="password",
                host_key_type="ssh-ed25519", host_key="AAAAold", host_key_fingerprint="SHA256:old",
                host_key_approved_at=timezone.now(), host_key_approved_by="alice", address_changed_by=by)
    if scanned:
        node.scanned_key_type, node.scanned_key, node.scanned_fingerprint = "ssh-ed25519", "AAAAnew", "SHA256:new"
    node.seal_credential(PASSWORD)
    node.save()
    return node


def approve(client, node, fingerprint: str = "SHA256:new"):
    return client.post(f"/clusters/{node.cluster.name}/nodes/{node.pk}/approve/", {"fingerprint": fingerprint},
                       follow=True)


def approved_key(node) -> str:
    node.refresh_from_db()
    return node.host_key if node.has_approved_key else ""


def test_by_default_an_operator_cannot_approve_a_host_key_and_the_page_says_who_can(operator_client, cluster):
    node = trusted_node(cluster, by="someone-else", scanned=True)
    page = operator_client.get(f"/clusters/prod/nodes/{node.pk}/").content.decode()
    assert "Approve SHA256:new" not in page and "Only an admin can approve a host key" in page
    r = approve(operator_client, node)
    assert "Only an admin can approve a host key" in r.content.decode()
    assert approved_key(node) == "AAAAold"


def test_an_admin_approves_and_history_records_who(admin_client, cluster):
    node = trusted_node(cluster, by="olivia", scanned=True)
    approve(admin_client, node)
    node.refresh_from_db()
    assert node.host_key == "AAAAnew" and node.host_key_approved_by == "alice"
    entry = AuditEvent.objects.get(action="approve_key")
    assert entry.actor_name == "alice" and entry.changes == {
        "host_key": ["ssh-ed25519 SHA256:old", "ssh-ed25519 SHA256:new"], "approved_by": [None, "alice"]}
    assert "REGUI_HOST_KEY_APPROVAL=admin" in entry.message and "olivia" in entry.message


@pytest.fixture
def two_person(settings):
    settings.REGUI_HOST_KEY_APPROVAL = "two-person"


def test_under_two_person_approval_the_operator_who_added_the_node_cannot_approve_it(two_person, make_user, cluster):
    from django.test import Client

    olivia, oscar = Client(), Client()
    olivia.force_login(make_user("olivia", "operator"))
    oscar.force_login(make_user("oscar", "operator"))
    olivia.post("/clusters/prod/nodes/new/", {"name": "n1", "address": "203.0.113.9", "port": "22", "role": "agent",
                                              "ssh_user": "root", "credential_kind": "password",
                                              "credential": PASSWORD})
    node = Node.objects.get()
    assert node.address_changed_by == "olivia"
    Node.objects.filter(pk=node.pk).update(scanned_key="AAAAnew", scanned_key_type="ssh-ed25519",
                                           scanned_fingerprint="SHA256:new")
    assert "another operator or an admin must approve" in approve(olivia, node).content.decode()
    assert approved_key(node) == ""
    approve(oscar, node)
    assert approved_key(node) == "AAAAnew" and node.host_key_approved_by == "oscar"


def test_under_two_person_approval_whoever_moved_the_node_cannot_approve_it(two_person, make_user, cluster):
    from django.test import Client

    node = trusted_node(cluster, by="oscar")
    olivia = Client()
    olivia.force_login(make_user("olivia", "operator"))
    olivia.post(f"/clusters/prod/nodes/{node.pk}/edit/", {
        "name": "n1", "address": "203.0.113.9", "port": "22", "role": "agent", "ssh_user": "root",
        "credential_kind": "password", "credential": "typed-by-olivia"})
    node.refresh_from_db()
    assert node.address == "203.0.113.9" and node.address_changed_by == "olivia"
    Node.objects.filter(pk=node.pk).update(scanned_key="AAAAnew", scanned_key_type="ssh-ed25519",
                                           scanned_fingerprint="SHA256:new")
    approve(olivia, node)
    assert approved_key(node) == ""


def test_under_two_person_approval_a_node_nobody_is_recorded_for_needs_an_admin(two_person, operator_client,
                                                                                admin_client, cluster):
    node = trusted_node(cluster, by="", scanned=True)
    assert "only an admin can approve" in approve(operator_client, node).content.decode()
    assert approved_key(node) == "AAAAold"
    approve(admin_client, node)
    assert approved_key(node) == "AAAAnew"


@pytest.mark.parametrize("mode", ["admin", "two-person"])
def test_a_viewer_can_never_approve(settings, viewer_client, cluster, mode):
    settings.REGUI_HOST_KEY_APPROVAL = mode
    node = trusted_node(cluster, by="someone", scanned=True)
    assert approve(viewer_client, node).status_code == 403
    assert approved_key(node) == "AAAAold"


def test_an_unknown_approval_setting_stops_start_up(monkeypatch):
    monkeypatch.setenv("REGUI_HOST_KEY_APPROVAL", "anyone")
    with pytest.raises(ImproperlyConfigured, match="REGUI_HOST_KEY_APPROVAL must be admin or two-person"):
        runpy.run_path(str(Path(__file__).resolve().parents[2] / "regui" / "settings.py"))


def edit(client, node, **change):
    data = {"name": node.name, "address": node.address, "port": str(node.port), "role": node.role,
            "ssh_user": node.ssh_user, "credential_kind": node.credential_kind, "credential": ""}
    return client.post(f"/clusters/{node.cluster.name}/nodes/{node.pk}/edit/", {**data, **change})


@pytest.mark.parametrize("change", [{"address": "203.0.113.9"}, {"port": "2222"}, {"ssh_user": "deploy"}])
def test_pointing_a_node_elsewhere_needs_its_credential_again_and_a_new_host_key(operator_client, cluster, change):
    node = trusted_node(cluster, by="alice")
    r = edit(operator_client, node, **change)
    assert r.status_code == 400 and "the stored credential is never sent to a different host" in r.content.decode()
    node.refresh_from_db()
    assert node.unseal_credential() == PASSWORD and node.has_approved_key, "a refused edit changes nothing"
    assert edit(operator_client, node, credential="typed-again", **change).status_code == 302
    node.refresh_from_db()
    assert node.unseal_credential() == "typed-again" and not node.has_approved_key and not node.scanned_key
    assert node.host_key_approved_by == "" and node.address_changed_by == "olivia"
    entry = AuditEvent.objects.filter(object_type="node", action="update").latest("id")
    assert entry.message == MOVED and entry.changes["host_key"] == ["ssh-ed25519 SHA256:old", None]


def test_the_edit_page_says_that_moving_a_node_drops_its_credential(operator_client, cluster):
    node = trusted_node(cluster)
    page = operator_client.get(f"/clusters/prod/nodes/{node.pk}/edit/").content.decode()
    assert "Changing the address, port or SSH user drops the stored credential and the approved host key" in page


def test_any_save_that_moves_a_node_drops_its_credential_and_host_key(make_user, cluster):
    node = Node.objects.get(pk=trusted_node(cluster, by="alice").pk)
    node.address = "203.0.113.9"
    with acting(make_user("olivia", "operator")):
        node.save(update_fields=["address"])
    node = Node.objects.get(pk=node.pk)
    assert node.sealed == "" and node.host_key == "" and node.host_key_approved_at is None
    assert node.address_changed_by == "olivia"


def test_a_save_that_keeps_the_target_keeps_the_credential_and_host_key(cluster):
    node = Node.objects.get(pk=trusted_node(cluster).pk)
    node.role, node.use_sudo = "server", True
    node.save()
    node.refresh_from_db()
    assert node.unseal_credential() == PASSWORD and node.has_approved_key


class Spy:
    """The transport in front of the fake nodes, recording what each call was given."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, []

    def connect(self, target, **kwargs):
        self.calls.append(("connect", target))
        return self.inner.connect(target, **kwargs)

    def scan_host_key(self, address, port, timeout):
        self.calls.append(("scan", address, port))
        return self.inner.scan_host_key(address, port, timeout)


@pytest.fixture
def spy(fake_ssh):
    with transport.replaced(Spy(fake_ssh)) as spying:
        yield spying


def fake_backed(cluster, fake, *, approved: bool) -> Node:
    node = Node(cluster=cluster, name=fake.name, address=fake.address, port=fake.port, ssh_user=fake.username,
                address_changed_by="olivia")
    node.seal_credential(fake.credential)
    if approved:
        node.host_key_type, node.host_key = fake.host_key.type, fake.host_key.key
        node.host_key_approved_at = timezone.now()
    node.save()
    return node


@pytest.mark.parametrize("problem", ["unapproved", "no credential"])
def test_import_from_an_untrusted_node_connects_to_nothing(operator_client, cluster, spy, fake_ssh, problem):
    fake = fake_ssh.node("attacker")
    fake.write("/etc/rancher/k3s/registries.yaml", b"mirrors: {}\n")
    node = fake_backed(cluster, fake, approved=problem != "unapproved")
    if problem == "no credential":
        Node.objects.filter(pk=node.pk).update(sealed="")
    r = operator_client.post(f"/clusters/prod/nodes/{node.pk}/import/", follow=True)
    assert f"Import from {node.name} failed: no" in r.content.decode() and "Nothing was sent." in r.content.decode()
    assert spy.calls == [] and fake.connects == []


def test_a_scan_sends_no_credential_and_trusts_nothing(operator_client, cluster, spy, fake_ssh):
    fake = fake_ssh.node("n1")
    node = fake_backed(cluster, fake, approved=False)
    operator_client.post(f"/clusters/prod/nodes/{node.pk}/scan/")
    node.refresh_from_db()
    assert spy.calls == [("scan", fake.address, fake.port)], "address and port only: nothing to log in with"
    assert node.scanned_key == fake.host_key.key and not node.has_approved_key
    target = node_target(node, scan=True)
    assert (target.password, target.private_key, target.host_key) == ("", "", None)


def test_the_gate_refuses_a_login_target_for_an_untrusted_node(cluster):
    node = trusted_node(cluster)
    assert node_target(node).password == PASSWORD
    Node.objects.filter(pk=node.pk).update(host_key_approved_at=None)
    with pytest.raises(NodeError, match="no approved host key.*have an admin approve it"):
        node_target(Node.objects.get(pk=node.pk))


def test_a_scan_finished_after_the_node_moved_is_not_kept_for_approval(cluster, fake_ssh):
    fake = fake_ssh.node("n1")
    node = fake_backed(cluster, fake, approved=False)
    Node.objects.filter(pk=node.pk).update(address="203.0.113.9")  # moved while the scan ran
    with pytest.raises(NodeError, match="changed during the scan"):
        node_scan_host_key(node=node)
    assert Node.objects.get(pk=node.pk).scanned_key == ""


def test_an_approval_shown_before_the_node_moved_approves_nothing(admin_client, operator_client, cluster):
    node = trusted_node(cluster, by="alice", scanned=True)
    shown = admin_client.get(f"/clusters/prod/nodes/{node.pk}/").content.decode()
    assert "SHA256:new" in shown
    edit(operator_client, node, address="203.0.113.9", credential="typed")
    approve(admin_client, node, "SHA256:new")
    assert approved_key(node) == ""


MIGRATION = importlib.import_module("regui.inventory.migrations.0002_node_address_changed_by")


def test_the_migration_keeps_only_host_keys_that_an_admin_approved(make_user, cluster):
    make_user("alice", "admin")
    make_user("olivia", "operator")
    nodes = {who: trusted_node(cluster, name=f"n-{who or 'nobody'}") for who in ("alice", "olivia", "", "ghost")}
    for who, node in nodes.items():
        Node.objects.filter(pk=node.pk).update(host_key_approved_by=who)
    MIGRATION.keep_admin_approvals_only(apps, None)
    after = {who: Node.objects.get(pk=n.pk) for who, n in nodes.items()}
    assert after["alice"].has_approved_key and after["alice"].host_key == "AAAAold"
    for who in ("olivia", "", "ghost"):
        node = after[who]
        assert not node.has_approved_key and node.host_key_approved_by == ""
        # Waiting for an admin, one click away; the credential is untouched.
        assert (node.scanned_key, node.scanned_fingerprint) == ("AAAAold", "SHA256:old"), who
        assert node.unseal_credential() == PASSWORD


def test_ssh_target_of_a_trusted_node_pins_its_approved_key(cluster):
    node = trusted_node(cluster)
    assert node_target(node).host_key == ssh.HostKey("ssh-ed25519", "AAAAold")
