"""An admin in Chromium turns on the drift watch of a cluster of real sshd nodes; after a check finds a
file changed by hand and a node refusing SSH, the cluster list marks both and History says so."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.pushes.test_drift_watch import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_sets_the_watch_and_sees_drifted_and_unreachable_nodes_marked(logged_in, live_server, stack, nodes):
    from regui.pushes.drift_watch import DriftWatch, drift_watch_tick

    h = nodes(3)
    stack.add(h)
    stack.push()
    receiver = Receiver()
    page = logged_in("alice", "admin")
    try:
        row = page.locator("tr", has_text="prod")
        expect(row.locator(".drift-watch-state")).to_have_text("not watched")
        row.get_by_role("link", name="watch settings").click()
        page.get_by_label("Check every (minutes)").fill("5")
        page.get_by_label("Webhook URL").fill(receiver.url + "?token=Hook-Token-31")
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".msg.success")).to_contain_text("Drift watch of prod saved.")
        expect(row.locator(".drift-watch-state")).to_have_text("watched every 5 min")
        expect(row.locator(".drift-badge")).to_have_text("no drift")
        assert DriftWatch.objects.get().interval_minutes == 5

        h.nodes[1].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n", 0o644, 0, 0)
        h.nodes[2].reject_ssh()
        (job,) = drift_watch_tick()  # what Celery beat runs every minute
        stack.wait(job)
        drift_watch_tick()
        page.reload()
        expect(row.locator('[data-badge="drifted"]')).to_have_text("1 drifted")
        expect(row.locator('[data-badge="unreachable"]')).to_have_text("1 unreachable")
        assert len(receiver.bodies) == 1
        row.get_by_role("link", name="watch settings").click()
        status = page.locator("#drift-status")
        expect(status.locator('[data-state="drifted"]')).to_contain_text(f"1 drifted {stack.nodes[1].name}")
        expect(status.locator('[data-state="unreachable"]')).to_contain_text(f"1 unreachable {stack.nodes[2].name}")
        # Write-only, even to an admin: the field is empty, its help names the host.
        host = receiver.url.removesuffix("/hook")
        expect(page.get_by_label("Webhook URL")).to_have_value("")
        expect(page.locator(".field", has_text="Webhook URL").locator(".help")).to_contain_text(f"set: {host} — leave empty to keep it")
        assert "Hook-Token-31" not in page.content()

        page.goto(f"{live_server.url}/history/?cluster=prod")
        results = page.locator("#history-results")
        expect(results).to_contain_text(f"drift watch: {stack.nodes[1].name} is drifted")
        expect(results).to_contain_text(f"drift watch: {stack.nodes[2].name} is unreachable")
        assert "Hook-Token-31" not in page.content()  # History names only the webhook's host
    finally:
        h.nodes[2].allow_ssh()
        receiver.close()
