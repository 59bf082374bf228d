"""Host keys are pinned, never auto-accepted: scan shows the fingerprint, an operator approves it."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_it_refuses_a_node_with_no_approved_key(stack, nodes):
    h = nodes(2)
    unapproved, approved = stack.add(h, approve=False)
    approved.host_key_type, approved.host_key = h.nodes[1].host_key_type, h.nodes[1].host_key_public
    from django.utils import timezone

    approved.host_key_approved_at = timezone.now()
    approved.save()
    res = stack.results(stack.push())
    assert res["node1"].status == "failed" and "no approved host key" in res["node1"].message
    assert h.nodes[0].read("/etc/rancher/k3s/registries.yaml") is None
    assert res["node2"].status == "changed"


def test_it_refuses_a_changed_host_key_and_shows_both_fingerprints(stack, nodes):
    h = nodes(1)
    stack.add(h)
    old = h.nodes[0].host_key_fingerprint
    h.nodes[0].regenerate_host_key()
    new = h.nodes[0].host_key_fingerprint
    assert old != new
    r = stack.push().results.get()
    assert r.status == "failed"
    assert old in r.message and new in r.message and "Nothing was sent" in r.message
    assert h.nodes[0].read("/etc/rancher/k3s/registries.yaml") is None


def test_scan_then_approve_through_the_pages(stack, nodes, client, make_user):
    h = nodes(1)
    (node,) = stack.add(h, approve=False)
    client.force_login(make_user("alice", "admin"))  # only admins approve host keys by default
    base = f"/clusters/{stack.cluster.name}/nodes/{node.pk}"
    client.post(f"{base}/scan/")
    page = client.get(f"{base}/").content.decode()
    assert h.nodes[0].host_key_fingerprint in page and "ssh-ed25519" in page
    node.refresh_from_db()
    assert not node.has_approved_key, "a scan alone never trusts the key"
    client.post(f"{base}/approve/", {"fingerprint": h.nodes[0].host_key_fingerprint})
    node.refresh_from_db()
    assert node.has_approved_key and node.host_key == h.nodes[0].host_key_public
    assert stack.push().results.get().status == "changed"


def test_a_rescan_after_a_key_change_warns_and_needs_a_new_approval(stack, nodes, client):
    h = nodes(1)
    (node,) = stack.add(h)
    h.nodes[0].regenerate_host_key()
    client.force_login(stack.user)
    r = client.post(f"/clusters/{stack.cluster.name}/nodes/{node.pk}/scan/", follow=True)
    assert "not the approved" in r.content.decode()
    node.refresh_from_db()
    assert node.host_key != h.nodes[0].host_key_public
