"""A person in Chromium saves the Registries page and finds it as they left it: the image typed in the
Test panel, which now shows the new revision and its registries; the Explain tab and its image; the
node files they opened; the YAML view. No reload, no console error. Server side:
tests/registries/test_save_in_place.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

IMAGE = "library/nginx:1.27"


@pytest.fixture(autouse=True)
def no_page_error(page):
    """No console error (an out-of-band swap that finds no target says so there), no policy violation."""
    from tests.browser.test_content_security_policy import WATCH, violations

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script(WATCH)
    yield
    assert violations(page) == []
    assert errors == [], "\n".join(errors)


def saved_cluster() -> None:
    from regui.registries.draft import ConfigBox, Draft, EndpointRow, MirrorBox, new_token
    from regui.registries.models import Cluster
    from regui.registries.services import registries_save

    cluster = Cluster.objects.create(name="prod", distro="k3s")
    registries_save(cluster=cluster, draft=Draft(revision=0, mirrors=[
        MirrorBox(new_token(), "docker.io", [EndpointRow(new_token(), "https://mirror.example.com:5000")]),
    ], configs=[ConfigBox(new_token(), "mirror.example.com:5000", insecure_skip_verify=True)]))


def open_page(logged_in, live_server) -> Page:
    saved_cluster()
    page = logged_in()
    page.goto(f"{live_server.url}/clusters/prod/")
    expect(page.locator("#registry-test")).to_contain_text("saved configuration (revision 1)")
    page.evaluate("window.__noReload = 1")
    return page


def test_a_save_keeps_the_image_typed_in_the_test_panel(logged_in, live_server):
    page = open_page(logged_in, live_server)
    panel = page.locator("#registry-test")
    page.fill("#registry-test-image", IMAGE)
    page.locator("label[for=tab-explain]").click()
    page.fill("#explain-image", "quay.io/team/app:v2")
    files = page.locator(".config-box").first.locator("details.node-paths")
    files.locator("summary").click()
    expect(files).to_have_attribute("open", "")

    mirror = page.locator(".mirror-box").first
    mirror.get_by_role("button", name="Add Endpoint").click()
    mirror.locator(".endpoint-row input[type=text]").nth(1).fill("https://second.example.com")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#save-done")).to_contain_text("Registries of prod saved as revision 2.")
    expect(panel).to_contain_text("saved configuration (revision 2)")
    expect(panel.locator('tr[data-registry="docker.io"]')).to_contain_text("https://second.example.com/v2")
    expect(page.locator("#registry-test-image")).to_have_value(IMAGE)
    expect(page.locator("#page-revision")).to_contain_text("revision 2 by olivia")
    expect(page.locator("#tab-explain")).to_be_checked()
    expect(page.locator("#explain-image")).to_have_value("quay.io/team/app:v2")
    expect(page.locator(".config-box").first.locator("details.node-paths")).to_have_attribute("open", "")
    assert page.evaluate("window.__noReload") == 1, "the save reloaded the page"

    # The page holds the new revision: the next save is not refused as someone else's.
    page.locator(".mirror-box").first.locator(".endpoint-row input[type=text]").nth(1).fill("https://third.example.com")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#save-done")).to_contain_text("Registries of prod saved as revision 3.")
    expect(panel).to_contain_text("saved configuration (revision 3)")
    expect(panel.locator('tr[data-registry="docker.io"]')).to_contain_text("https://third.example.com/v2")
    expect(page.locator("#registry-test-image")).to_have_value(IMAGE)
    assert page.evaluate("window.__noReload") == 1


def test_a_save_from_the_yaml_view_stays_there_with_the_saved_text(logged_in, live_server):
    from regui.registries.models import Secret

    page = open_page(logged_in, live_server)
    page.get_by_role("button", name="Add Registry").click()
    box = page.locator(".config-box").nth(1)
    box.get_by_label("Registry Hostname").fill("typed.example.com")
    box.get_by_label("Authentication").select_option(label="Create an HTTP Basic Auth Secret")
    box.get_by_label("Username").fill("typed-user")
    box.get_by_label("Password").fill("Typed-In-Browser-Pw-1")
    page.get_by_role("tab", name="Edit as YAML").click()
    text = page.locator("#yaml-text")
    expect(text).to_have_value(re.compile(r"password of secret \(new\)"))

    page.get_by_role("button", name="Save").click()
    expect(page.locator("#save-done")).to_contain_text("Registries of prod saved as revision 2.")
    secret = Secret.objects.get(username="typed-user")
    expect(text).to_be_visible()
    expect(text).to_have_value(re.compile(rf"password of secret {re.escape(secret.name)}>"))
    assert "(new)" not in text.input_value() and "Typed-In-Browser-Pw-1" not in page.content()
    # Back in the form: the box now names the secret the save made.
    page.get_by_role("tab", name="Form").click()
    expect(page.locator(".config-box").nth(1).get_by_label("Authentication")).to_have_value(str(secret.pk))
    assert page.evaluate("window.__noReload") == 1
