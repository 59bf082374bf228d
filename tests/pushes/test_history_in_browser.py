"""A person in Chromium: edits a mirror twice, pushes, opens History, filters by the cluster (htmx, no
reload, shareable URL) and opens the second edit's diff. No secret shows anywhere on the way.

Here rather than in tests/browser: the push needs the real worker and SSH nodes of tests/pushes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET = "push-secret-7Q"  # the password in tests.pushes.conftest.YAML


def save_endpoint(page, url: str, message: str) -> None:
    endpoint = page.locator(".mirror-box .endpoint-row input[type=text]").first
    endpoint.fill(url)
    page.locator(".savebar input[name=message]").fill(message)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".msg.success")).to_contain_text("saved")
    expect(page.locator(".mirror-box .endpoint-row input[type=text]").first).to_have_value(url)


def test_an_operator_finds_the_diff_of_a_pushed_mirror_edit_in_history(stack, nodes, logged_in, live_server):
    from regui.audit.models import AuditEvent
    from regui.registries.importing import registries_import
    from regui.registries.models import Cluster

    (node,) = stack.add(nodes(1))
    registries_import(cluster=Cluster.objects.create(name="edge"), text="mirrors:\n  quay.io: {}\n", replace=True)
    page = logged_in("pia", "operator")

    page.goto(f"{live_server.url}/clusters/prod/")
    save_endpoint(page, "https://first.example.com:5000", "first edit")
    save_endpoint(page, "https://second.example.com:5000", "second edit")
    page.wait_for_load_state("networkidle")  # the save's own navigation has settled
    page.goto(f"{live_server.url}/clusters/prod/nodes/")
    page.get_by_role("button", name="Push to all nodes").click()
    page.get_by_role("button", name="Push to 1 node").click()  # the confirmation (issue 11 item 6)
    expect(page.locator(".job-status")).to_have_text("done", timeout=30_000)
    expect(page.locator(".result-row .result")).to_have_text("changed")
    job = stack.cluster.push_jobs.get()
    assert job.revision == 3 and job.results.get().status == "changed"

    page.goto(f"{live_server.url}/clusters/prod/")
    page.locator(".subnav").get_by_role("link", name="History").click()
    expect(page.locator("#revisions")).to_contain_text("r3")
    page.goto(f"{live_server.url}/history/")
    expect(page.locator("#history-table")).to_contain_text("edge")
    page.evaluate("window.__noReload = 'still here'")
    page.select_option("#hf-cluster", "prod")
    expect(page).to_have_url(re.compile(r"/history/\?cluster=prod$"))
    rows = page.locator("#history-table tr.entry")
    expect(rows.filter(has_text="edge")).to_have_count(0)
    expect(rows.filter(has_text="push result")).to_have_count(1)
    assert page.evaluate("window.__noReload") == "still here", "filtering must not reload the page"

    edits = page.locator("#history-table tr.entry[data-object-type=mirror][data-action=update]")
    expect(edits).to_have_count(2)
    second = AuditEvent.objects.get(object_type="mirror", action="update", message="second edit")
    row = page.locator(f"#entry-{second.pk}")
    expect(edits.first).to_have_id(f"entry-{second.pk}")
    row.locator("button.toggle").click()
    changes = page.locator(f"#entry-{second.pk}-changes table.changes")
    expect(changes.locator("td.before")).to_contain_text("https://first.example.com:5000")
    expect(changes.locator("td.after")).to_contain_text("https://second.example.com:5000")
    expect(changes.locator("td.after .line.add")).to_contain_text("https://second.example.com:5000")
    expect(page.locator(f"#entry-{second.pk}-changes")).to_contain_text("r2 → r3")
    # A second click closes it again.
    row.locator("td.message").click()
    expect(page.locator(f"#entry-{second.pk}-changes table.changes")).to_have_count(0)
    assert SECRET not in page.content()

    page.goto(f"{live_server.url}/clusters/prod/nodes/{node.pk}/")
    expect(page.locator(f"#node-revision-{node.pk}")).to_contain_text("has revision 3")
    assert SECRET not in page.content()
