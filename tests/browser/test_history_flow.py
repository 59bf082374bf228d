"""A person in Chromium: the cluster's History tab, paging through entries, comparing two revisions
side by side and restoring the older one. (Editing, pushing and filtering with a real push is in
tests/pushes/test_history_in_browser.py.)"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PW = "Br0wser-History-Pw"
SHOTS = os.environ.get("REGUI_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_an_operator_compares_two_revisions_and_restores_the_older(logged_in, live_server):
    from regui.audit.context import acting
    from regui.audit.models import Revision
    from regui.audit.services import audit_record
    from regui.registries.importing import registries_import
    from regui.registries.models import Cluster

    cluster = Cluster.objects.create(name="prod")
    registries_import(cluster=cluster, text=(
        'mirrors:\n  docker.io:\n    endpoint: ["https://old.example.com"]\n'
        f'configs:\n  "old.example.com":\n    auth: {{username: robot, password: "{PW}"}}\n'), replace=True)
    registries_import(cluster=cluster, text='mirrors:\n  docker.io:\n    endpoint: ["https://new.example.com"]\n',
                      replace=False)
    with acting(username="filler"):
        for i in range(60):
            audit_record(action="update", object_type="cluster", object_repr="prod", cluster=cluster,
                         message=f"filler {i}")
    page = logged_in()

    page.goto(f"{live_server.url}/clusters/prod/history/")
    expect(page.locator(".subnav a.active")).to_have_text("History")
    expect(page.locator("#history-table tr.entry")).to_have_count(50)
    page.evaluate("window.__noReload = 1")
    page.get_by_role("link", name="Older ›").click()
    expect(page).to_have_url(re.compile(r"/clusters/prod/history/\?before="))
    expect(page.locator("#history-table")).to_contain_text("docker.io")
    assert page.evaluate("window.__noReload") == 1, "paging must not reload the page"
    shot(page, "cluster-history")

    page.locator("#revisions input[name=a][value='1']").check()
    page.locator("#revisions input[name=b][value='2']").check()
    page.get_by_role("button", name="Side by side").click()
    expect(page.locator("table.diff.side tr.replace").first).to_contain_text("https://old.example.com")
    expect(page.locator("table.diff.side tr.replace").first).to_contain_text("https://new.example.com")
    shot(page, "compare-side")
    page.select_option("select[name=mode]", "unified")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("table.diff.unified tr.add")).to_contain_text(["https://new.example.com"])
    assert PW not in page.content()

    page.get_by_role("link", name="r1").first.click()
    expect(page.locator("#revision-yaml")).to_contain_text("https://old.example.com")
    page.fill("#restore-message", "back to old")
    page.get_by_role("button", name="Restore revision 1").click()
    expect(page.locator(".msg.success")).to_have_text("Revision 1 restored as revision 3: push it to apply.")
    expect(page).to_have_url(f"{live_server.url}/clusters/prod/nodes/")
    assert Revision.objects.get(cluster=cluster, number=3).message == "back to old"

    page.goto(f"{live_server.url}/history/?object_type=revision")
    row = page.locator("#history-table tr.entry").first
    expect(row).to_contain_text("restored a revision")
    row.click()
    expect(page.locator("table.changes")).to_contain_text("Restored from")
    shot(page, "history-restore-entry")
    assert PW not in page.content()
