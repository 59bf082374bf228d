"""A person in Chromium under the Content-Security-Policy: every page loads, and what used to be
inline handlers (remove buttons, the auth select, lint links, history rows) still works, with no
violation reported and nothing htmx would have had to eval."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
document.addEventListener("htmx:evalDisallowedError", () => window.__violations.push("htmx wanted eval"));
"""


def violations(page) -> list[str]:
    return page.evaluate("window.__violations")


def test_the_pages_work_under_the_policy_with_no_violation(logged_in, live_server):
    from regui.audit.context import acting
    from regui.audit.services import audit_record
    from regui.registries.importing import registries_import
    from regui.registries.models import Cluster

    page = logged_in("ada", "admin")
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(WATCH)
    cluster = Cluster.objects.create(name="prod", distro="k3s")
    registries_import(cluster=cluster, text=(
        'mirrors:\n  docker.io:\n    endpoint: ["http://a.example.com", "https://b.example.com"]\n'
        '    rewrite: {"^x/(.*)": "y/$1"}\n'
        'configs:\n  "a.example.com":\n    tls: {insecure_skip_verify: true}\n'), replace=True)
    with acting(username="filler"):
        audit_record(action="update", object_type="cluster", object_repr="prod", cluster=cluster, message="hi")

    for path in ("/", "/secrets/", "/history/", "/users/", "/password/", "/clusters/prod/nodes/",
                 "/clusters/prod/history/", "/clusters/prod/revisions/", "/clusters/prod/import/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert violations(page) == [], path

    page.goto(f"{live_server.url}/clusters/prod/")
    preview = page.locator("#preview-yaml")
    expect(preview).to_contain_text("https://b.example.com")
    # Remove buttons: the row goes and the preview follows.
    page.locator(".mirror-box .endpoint-row").nth(1).get_by_role("button", name="Remove endpoint").click()
    expect(page.locator(".mirror-box .endpoint-row")).to_have_count(1)
    expect(preview).not_to_contain_text("https://b.example.com")
    page.locator(".mirror-box .rowline").filter(has=page.get_by_label("Rewrite pattern")).get_by_role(
        "button", name="Remove").click()
    expect(preview).not_to_contain_text("^x/(.*)")
    # The auth select shows the fields of what it chose.
    config = page.locator(".config-box").first
    config.get_by_label("Authentication").select_option(label="Create an HTTP Basic Auth Secret")
    expect(config.get_by_label("Username")).to_be_visible()
    # A lint finding's link focuses its field.
    page.locator("label[for=tab-lint]").click()
    link = page.locator("#preview-lint a.lint-link").first
    expect(link).to_be_visible()
    target = link.get_attribute("data-focus")
    link.click()
    assert page.evaluate("document.activeElement.id") == target
    page.get_by_role("button", name="Remove registry").first.click()
    expect(page.locator(".config-box")).to_have_count(0)
    assert violations(page) == []

    # History rows open and close their changes; a link in a row navigates without opening it.
    page.goto(f"{live_server.url}/history/")
    row = page.locator("#history-table tr.entry").first
    row.locator("td.message").click()
    expect(row).to_have_class("entry open")
    expect(page.locator(".entry-detail").first).to_be_visible()
    row.locator("td.message").click()
    expect(row).to_have_class("entry")
    expect(page.locator(".entry-detail")).to_have_count(0)
    row.locator("td").nth(4).get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/history/?cluster=prod")
    assert violations(page) == [] and console == []
