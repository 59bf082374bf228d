"""A person in Chromium (an admin) scans every unscanned node from the node list in one click, then
pastes ssh-keyscan lines: the matching node is approved, the other is shown as a mismatch with both
fingerprints (issue 11 item 11)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.fakes.ssh import _new_host_key

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_scans_all_from_the_node_list_and_approves_from_pasted_lines(fake_ssh, logged_in, live_server):
    from regui.inventory.models import Node
    from regui.registries.models import Cluster
    from tests.fakes.fleet import register

    cluster = Cluster.objects.create(name="prod", distro="k3s")
    a1, a2 = fake_ssh.node("a1"), fake_ssh.node("a2")
    register(cluster, a1, approve=False)
    register(cluster, a2, approve=False)
    page = logged_in("alice", "admin")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}/clusters/prod/nodes/")
    page.get_by_role("button", name="Scan all unscanned").click()
    expect(page.locator("#scan-report")).to_contain_text(f"a1 presents ssh-ed25519 {a1.host_key.fingerprint}")
    expect(page.locator("#scan-report")).to_contain_text(a2.host_key.fingerprint)

    other = _new_host_key()
    page.get_by_label("known_hosts or ssh-keyscan lines").fill(
        f"# {a1.address}:22 SSH-2.0-OpenSSH_9.2\n{a1.address} {a1.host_key.type} {a1.host_key.key}\n"
        f"{a2.address} {other.type} {other.key}\n")
    page.get_by_role("button", name="Approve matching keys").click()
    expect(page.locator("#approval-report .approved")).to_contain_text("Approved a1")
    mismatch = page.locator("#approval-report .mismatch")
    expect(mismatch).to_contain_text("a2: mismatch, not approved.")
    expect(mismatch).to_contain_text(a2.host_key.fingerprint)
    expect(mismatch).to_contain_text(other.fingerprint)
    assert Node.objects.get(name="a1").has_approved_key and not Node.objects.get(name="a2").has_approved_key
    assert not errors, errors
