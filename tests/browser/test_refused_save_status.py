"""A person in Chromium whose save of the Registries page is refused sees why, where they did when the
refusal answered 200: it now answers 400 (fields to fix) or 409 (someone saved meanwhile), base.html's
htmx-config swaps it into #save-result, field-errors.js writes each field's error beside it, and the form
keeps what was typed; nothing goes to #request-alert. Fast tests:
tests/registries/test_registries_page_refusal_status.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TYPED = "https://typed.example.com:5000"


def saved_cluster():
    from regui.registries.draft import Draft, EndpointRow, MirrorBox, new_token
    from regui.registries.models import Cluster
    from regui.registries.services import registries_save

    cluster = Cluster.objects.create(name="prod", distro="k3s")
    registries_save(cluster=cluster, draft=Draft(revision=0, mirrors=[
        MirrorBox(new_token(), "docker.io", [EndpointRow(new_token(), "https://mirror.example.com:5000")])]))
    return cluster


def open_page(logged_in, live_server) -> Page:
    page = logged_in()
    page.goto(f"{live_server.url}/clusters/prod/")
    expect(page.locator("#preview-yaml")).to_contain_text("https://mirror.example.com:5000")
    return page


def save(page: Page) -> int:
    with page.expect_response("**/registries/save/") as answer:
        page.get_by_role("button", name="Save").click()
    return answer.value.status


def test_a_save_with_a_field_to_fix_answers_400_and_shows_the_error_beside_the_field(logged_in, live_server):
    saved_cluster()
    page = open_page(logged_in, live_server)
    endpoint = page.locator(".mirror-box").first.locator(".endpoint-row input[type=text]").first
    endpoint.fill("ftp://mirror.example.com")

    assert save(page) == 400
    expect(page.locator("#save-summary")).to_contain_text("Nothing was saved: fix the fields marked below.")
    expect(page.locator(f"#err-{endpoint.get_attribute('id')}")).to_contain_text("Scheme")
    expect(page.locator("#save-attention")).to_have_text("1 field needs attention")
    expect(endpoint).to_be_focused()
    expect(endpoint).to_have_value("ftp://mirror.example.com")
    expect(page.locator("#request-alert")).to_be_hidden()


def test_a_save_after_someone_else_saved_answers_409_and_says_to_reload(logged_in, live_server):
    from regui.registries.draft import Draft, EndpointRow, MirrorBox, new_token
    from regui.registries.services import registries_save

    cluster = saved_cluster()
    page = open_page(logged_in, live_server)
    registries_save(cluster=cluster, draft=Draft(revision=1, mirrors=[
        MirrorBox(new_token(), "quay.io", [EndpointRow(new_token(), "https://quay-mirror.example.com")])]))
    endpoint = page.locator(".mirror-box").first.locator(".endpoint-row input[type=text]").first
    endpoint.fill(TYPED)

    assert save(page) == 409
    expect(page.locator("#save-summary")).to_contain_text("Someone saved these registries (now revision 2)")
    expect(page.locator("#save-summary")).to_be_focused()
    expect(endpoint).to_have_value(TYPED)
    expect(page.locator("#request-alert")).to_be_hidden()
    cluster.refresh_from_db()
    assert cluster.revision == 2
