"""The Registries page loads, and reloads its test panel after a save, without one console error
(an error there hides the real ones a person would need to report)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_registries_page_logs_no_console_error(logged_in, live_server):
    from regui.registries.models import Cluster

    page = logged_in()
    Cluster.objects.create(name="prod", distro="k3s")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{live_server.url}/clusters/prod/")
    expect(page.locator("#registry-test-image")).to_be_visible()  # the test panel has loaded
    expect(page.locator("#preview-yaml")).to_be_attached()
    page.get_by_label("Image to resolve (optional)").fill("library/nginx:1.27")
    mirror = page.locator(".mirror-box").first
    mirror.get_by_label("Registry Hostname").fill("docker.io")
    mirror.locator(".endpoint-row input[type=text]").first.fill("https://mirror.example.com:5000")
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".registry-test-row")).to_have_count(1)  # the panel loaded again after the save
    assert errors == [], "\n".join(errors)
