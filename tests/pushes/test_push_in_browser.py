"""A person in Chromium: add a node, approve its host key, press Push, confirm the plan, watch the job and the row turn "changed".
(An admin: only admins approve host keys by default; tests/inventory/test_node_trust.py has the rules.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_pushes_to_a_new_node_from_its_row(logged_in, live_server, push_worker, nodes):
    from regui.registries.importing import registries_import
    from regui.registries.models import Cluster
    from tests.pushes.conftest import YAML

    h = nodes(1)
    cluster = Cluster.objects.create(name="prod", distro="k3s")
    registries_import(cluster=cluster, text=YAML, replace=True)
    page = logged_in("alice", "admin")

    page.goto(f"{live_server.url}/clusters/prod/nodes/new/")
    page.fill("#id_name", "agent-1")
    page.fill("#id_address", h.nodes[0].address)
    page.select_option("#id_role", "agent")
    page.fill("#id_credential", h.client_private_key_pem)
    page.click("main button[type=submit]")
    expect(page.locator(".msg.success")).to_contain_text("Scan and approve its host key")

    page.get_by_role("button", name="Scan host key").click()
    expect(page.locator("#scanned-key")).to_contain_text(h.nodes[0].host_key_fingerprint)
    page.locator("#scanned-key").get_by_role("button").click()
    expect(page.locator(".msg.success")).to_contain_text("approved")

    page.goto(f"{live_server.url}/clusters/prod/nodes/")
    row = page.locator(".node-row").first
    expect(row.locator("[data-badge]")).to_have_text("never pushed")
    row.get_by_role("link", name="Push").click()  # the plan first (issue 11 item 6): nothing queued yet
    expect(page.locator("#push-nodes")).to_contain_text("never read: unknown, will be replaced")
    page.get_by_role("button", name="Push to 1 node").click()
    expect(page.locator(".result-row .result")).to_have_text("changed", timeout=30_000)
    page.goto(f"{live_server.url}/clusters/prod/nodes/")
    expect(page.locator(".node-row").first.locator(".result")).to_have_text("changed")
    expect(page.locator(".node-row").first.locator("[data-badge]")).to_have_text("in sync")
    assert h.nodes[0].read("/etc/rancher/k3s/registries.yaml").startswith(b"# Managed by regui")
    assert "push-secret-7Q" not in page.content()
