"""Host keys in bulk (issue 11 item 11): scan every unscanned node in one click; approve by pasting
known_hosts / ssh-keyscan lines: a node's scanned key that equals a pasted one is approved (recorded
as the node page's approval is), a different one is shown as a mismatch with both fingerprints, a node
with no line is listed. Fake nodes (tests/fakes/ssh.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pytest

from regui.audit.models import AuditEvent
from regui.inventory.known_hosts import (
    approve_from_known_hosts,
    parse_known_hosts,
    scan_unscanned,
)
from regui.inventory.models import Node
from regui.inventory.services import node_scan_host_key
from tests.fakes.fleet import register
from tests.fakes.ssh import _new_host_key

pytestmark = pytest.mark.django_db


def line(node_or_address, key, port: int = 22) -> str:
    address = getattr(node_or_address, "address", node_or_address)
    host = address if port == 22 else f"[{address}]:{port}"
    return f"{host} {key.type} {key.key}"


def hashed(address: str, port: int = 22) -> str:
    salt = os.urandom(20)
    name = address if port == 22 else f"[{address}]:{port}"
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@pytest.fixture
def three(fake_ssh, cluster):
    """Three fake nodes registered without approved keys, scanned."""
    fakes = [fake_ssh.node(n) for n in ("a1", "a2", "a3")]
    nodes = [register(cluster, f, approve=False) for f in fakes]
    for n in nodes:
        node_scan_host_key(node=n)
    return fakes, nodes


def test_known_hosts_lines_are_read_with_ports_hashes_and_comments():
    key = _new_host_key()
    text = "\n".join([
        "# 192.0.2.1:22 SSH-2.0-OpenSSH_9.2",
        f"192.0.2.1,web1 {key.type} {key.key} root@web1",
        f"[192.0.2.2]:2222 {key.type} {key.key}",
        f"{hashed('192.0.2.3')} {key.type} {key.key}",
        f"@cert-authority *.example.com {key.type} {key.key}",
        "192.0.2.4 ssh-ed25519 not*base64",
        "",
    ])
    keys, problems = parse_known_hosts(text)
    assert [k.line for k in keys] == [2, 3, 4]
    assert keys[0].names("192.0.2.1", 22) and not keys[0].names("192.0.2.1", 2222)
    assert keys[1].names("192.0.2.2", 2222) and not keys[1].names("192.0.2.2", 22)
    assert keys[2].names("192.0.2.3", 22) and not keys[2].names("192.0.2.1", 22)
    assert keys[0].fingerprint == key.fingerprint
    assert problems == ["line 5: @cert-authority lines are not host keys; skipped",
                        "line 6: the key of 192.0.2.4 is not base64"]


def test_a_hashed_hostname_with_a_port_matches_its_node():
    key = _new_host_key()
    (k,), _ = parse_known_hosts(f"{hashed('192.0.2.9', 2200)} {key.type} {key.key}")
    assert k.names("192.0.2.9", 2200) and not k.names("192.0.2.9", 22)


def test_matching_lines_approve_the_scanned_keys_and_record_it_as_the_node_page_does(three, make_user, cluster):
    fakes, nodes = three
    admin = make_user("alice", "admin")
    text = "\n".join(line(f, f.host_key) for f in fakes[:2])
    report = approve_from_known_hosts(cluster=cluster, text=text, user=admin)
    assert [n.name for n in report.approved] == ["a1", "a2"]
    assert [n.name for n in report.missing] == ["a3"]
    for n, f in zip(nodes[:2], fakes[:2], strict=True):
        n.refresh_from_db()
        assert n.has_approved_key and n.host_key == f.host_key.key and n.host_key_approved_by == "alice"
    nodes[2].refresh_from_db()
    assert not nodes[2].has_approved_key
    events = AuditEvent.objects.filter(action="approve_key")
    assert sorted(e.object_id for e in events) == sorted(str(n.pk) for n in nodes[:2])


def test_a_different_pasted_key_is_a_mismatch_with_both_fingerprints_and_is_not_approved(three, make_user, cluster):
    fakes, nodes = three
    other = _new_host_key()
    report = approve_from_known_hosts(cluster=cluster, text=line(fakes[0], other), user=make_user("alice", "admin"))
    (m,) = report.mismatches
    assert m.node.name == "a1"
    assert m.scanned == f"ssh-ed25519 {fakes[0].host_key.fingerprint}" and m.pasted == [f"ssh-ed25519 {other.fingerprint}"]
    assert not report.approved and not Node.objects.get(pk=nodes[0].pk).has_approved_key


def test_a_node_not_yet_scanned_is_listed_not_approved(fake_ssh, cluster, make_user):
    f = fake_ssh.node("a1")
    node = register(cluster, f, approve=False)
    report = approve_from_known_hosts(cluster=cluster, text=line(f, f.host_key), user=make_user("alice", "admin"))
    assert report.unscanned == [node] and not report.approved


def test_an_already_approved_key_is_said_so_and_lines_for_no_node_are_listed(fake_ssh, cluster, make_user):
    f = fake_ssh.node("a1")
    register(cluster, f, approve=True)
    text = f"{line(f, f.host_key)}\n{line('198.51.100.7', _new_host_key())}"
    report = approve_from_known_hosts(cluster=cluster, text=text, user=make_user("alice", "admin"))
    assert [n.name for n in report.already] == ["a1"] and report.unmatched == [2]


def test_an_operator_cannot_approve_in_bulk_when_only_admins_approve(three, make_user, cluster):
    fakes, nodes = three
    report = approve_from_known_hosts(cluster=cluster, text=line(fakes[0], fakes[0].host_key),
                                      user=make_user("olivia", "operator"))
    (node, reason), = report.refused
    assert node.name == "a1" and "Only an admin can approve" in reason
    assert not Node.objects.get(pk=nodes[0].pk).has_approved_key


def test_under_two_person_approval_another_operator_approves_in_bulk(three, make_user, cluster, settings):
    settings.REGUI_HOST_KEY_APPROVAL = "two-person"
    fakes, nodes = three
    Node.objects.filter(pk=nodes[0].pk).update(address_changed_by="olivia")
    report = approve_from_known_hosts(cluster=cluster, text=line(fakes[0], fakes[0].host_key),
                                      user=make_user("oscar", "operator"))
    assert [n.name for n in report.approved] == ["a1"]


def test_scan_all_scans_only_unscanned_nodes_and_lists_those_it_cannot_reach(fake_ssh, cluster):
    up, down, known = fake_ssh.node("a1"), fake_ssh.node("a2", network="refused"), fake_ssh.node("a3")
    n_up = register(cluster, up, approve=False)
    register(cluster, down, approve=False)
    register(cluster, known, approve=True)
    report = scan_unscanned(cluster=cluster)
    assert [(n.name, k.fingerprint) for n, k in report.scanned] == [("a1", up.host_key.fingerprint)]
    assert [n.name for n, _ in report.failed] == ["a2"] and "refused" in report.failed[0][1]
    n_up.refresh_from_db()
    assert n_up.scanned_fingerprint == up.host_key.fingerprint and not n_up.has_approved_key
    assert not up.execs, "a scan runs nothing on the node"


def test_the_host_keys_page_scans_all_and_approves_from_pasted_lines(fake_ssh, cluster, admin_client):
    fakes = [fake_ssh.node(n) for n in ("a1", "a2")]
    for f in fakes:
        register(cluster, f, approve=False)
    page = admin_client.get("/clusters/prod/nodes/host-keys/").content.decode()
    assert "Scan all unscanned (2)" in page and 'name="known_hosts"' in page
    page = admin_client.post("/clusters/prod/nodes/host-keys/scan/").content.decode()
    assert fakes[0].host_key.fingerprint in page and "Scan all unscanned" not in page
    other = _new_host_key()
    page = admin_client.post("/clusters/prod/nodes/host-keys/approve/", {
        "known_hosts": f"{line(fakes[0], fakes[0].host_key)}\n{line(fakes[1], other)}"}).content.decode()
    assert "Approved a1" in page and "a2: mismatch, not approved." in page
    assert fakes[1].host_key.fingerprint in page and other.fingerprint in page
    (event,) = AuditEvent.objects.filter(action="approve_key")
    assert event.actor_name == "alice" and event.node_id_ref == Node.objects.get(name="a1").pk


def test_an_operator_sees_who_can_approve_instead_of_the_form(cluster, operator_client):
    page = operator_client.get("/clusters/prod/nodes/host-keys/").content.decode()
    assert 'name="known_hosts"' not in page and "Only an admin can approve host keys." in page


def test_a_viewer_cannot_scan_or_approve_in_bulk(cluster, viewer_client):
    assert viewer_client.get("/clusters/prod/nodes/host-keys/").status_code == 403
    assert viewer_client.post("/clusters/prod/nodes/host-keys/scan/").status_code == 403
    assert viewer_client.post("/clusters/prod/nodes/host-keys/approve/", {"known_hosts": "x"}).status_code == 403



def test_scan_all_scans_a_batch_at_the_same_time_and_says_how_many_are_left(fake_ssh, cluster, monkeypatch):
    import threading

    from regui.inventory import known_hosts, services

    fakes = [fake_ssh.node(f"a{i}") for i in range(1, 5)]
    for f in fakes:
        register(cluster, f, approve=False)
    together = threading.Barrier(3, timeout=5)  # broken unless the batch's three scans run at once

    def fetch(target):
        together.wait()
        return services.host_key_fetch(target)

    monkeypatch.setattr(known_hosts, "host_key_fetch", fetch)
    report = scan_unscanned(cluster=cluster, batch=3)
    assert [n.name for n, _ in report.scanned] == ["a1", "a2", "a3"] and report.left == 1 and not report.failed
    assert [n.name for n in known_hosts.unscanned_nodes(cluster)] == ["a4"]


def test_pasted_text_is_shown_escaped(cluster, admin_client):
    page = admin_client.post("/clusters/prod/nodes/host-keys/approve/", {
        "known_hosts": "<script>alert(1)</script>\n<b>x</b> ssh-ed25519 <i>"}).content.decode()
    assert "<script>alert(1)" not in page and "<b>x</b>" not in page
    assert "line 1: expected `host key-type base64-key`" in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_a_cluster_without_nodes_says_so_rather_than_that_every_node_has_a_key(admin_client, cluster):
    page = admin_client.get("/clusters/prod/nodes/host-keys/").content.decode()
    assert 'id="no-nodes"' in page and "prod has no nodes yet" in page
    assert "Every node has a scanned or approved host key" not in page
