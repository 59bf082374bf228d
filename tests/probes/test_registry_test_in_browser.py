"""A person in Chromium: on the Registries page, type an image, press a registry's Test, and watch the
result arrive from a real worker (no reload), step by step, with no secret on the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.probes.conftest import save_harness_registry

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_test_button_shows_the_live_result(logged_in, live_server, push_worker, harness_registry):
    from regui.registries.models import Cluster

    cluster = Cluster.objects.create(name="prod", distro="k3s")
    save_harness_registry(cluster, harness_registry)
    page = logged_in("olivia", "operator")
    page.goto(f"{live_server.url}/clusters/prod/")
    row = page.locator(f'tr[data-registry="{harness_registry.host}"]')
    expect(row).to_contain_text(f"https://{harness_registry.host}/v2")
    expect(row).to_contain_text("CA Cert Bundle of")
    page.evaluate("window.__noReload = 1")
    page.fill("#registry-test-image", "harness/tiny:v1")
    row.get_by_role("button", name="Test", exact=True).click()

    result = page.locator("#registry-test-result")
    expect(result.locator(".test-status")).to_have_text("works", timeout=30_000)
    expect(result.locator(".test-summary")).to_contain_text(
        f"Works: a pull of {harness_registry.host}/harness/tiny:v1 gets its manifest (sha256:")
    expect(result.locator(".step-ok").filter(has_text="the manifest is there")).to_have_count(1)
    expect(result.locator(".step-ok").filter(has_text="issued by CN=regui-harness-test-ca")).to_have_count(1)
    assert page.evaluate("window.__noReload") == 1, "the result arrived without a page reload"
    assert harness_registry.password not in page.content()
