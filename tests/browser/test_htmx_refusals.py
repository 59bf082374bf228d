"""A person in Chromium whose htmx request is refused sees why, where before the page stayed as it
was: a refusal with its form or message (400, 409, 413, 422) is swapped in (base.html's htmx-config);
a 403, a plain-text refusal, a server error or no answer at all is a sentence in #request-alert
(regui.js). The node page's checks are the htmx forms used here."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FRAGMENT_409 = ('<section class="card node-checks" id="node-checks"><div class="msg error" id="check-error">'
                'Someone else changed this node: look again.</div></section>')


@pytest.fixture
def node_page(logged_in, live_server):
    """An operator on the page of a node regui may not connect to yet (no approved host key)."""
    from regui.inventory.models import Node
    from regui.registries.models import Cluster

    cluster = Cluster.objects.create(name="prod", distro="k3s")
    node = Node.objects.create(cluster=cluster, name="a1", address="10.20.0.21")
    page = logged_in("otto", "operator")
    page.goto(f"{live_server.url}/clusters/prod/nodes/{node.pk}/")
    expect(page.get_by_role("button", name="Read back now")).to_be_visible()
    return page


def test_a_refused_check_answered_400_is_swapped_in_with_its_reason(node_page):
    node_page.get_by_role("button", name="Read back now").click()
    expect(node_page.locator("#check-error")).to_contain_text("Nothing was read: no approved host key")
    expect(node_page.locator("#request-alert")).to_be_hidden()


def test_a_form_error_of_the_pull_test_answered_400_is_swapped_in(node_page):
    node_page.get_by_label("Image", exact=True).fill("not an image!")
    node_page.get_by_role("button", name="Test a pull").click()
    expect(node_page.locator("#check-error")).to_contain_text("Nothing was pulled:")
    expect(node_page.get_by_label("Image", exact=True)).to_have_value("not an image!")


def test_a_409_answer_is_swapped_in_as_well(node_page):
    node_page.route("**/checks/readback/", lambda route: route.fulfill(
        status=409, body=FRAGMENT_409, content_type="text/html; charset=utf-8"))
    node_page.get_by_role("button", name="Read back now").click()
    expect(node_page.locator("#check-error")).to_have_text("Someone else changed this node: look again.")


def test_an_operator_made_viewer_since_the_page_was_shown_is_told_the_role_no_longer_allows_it(node_page):
    from django.contrib.auth.models import User

    from regui.core.services import user_set_role

    user_set_role(user=User.objects.get(username="otto"), role="viewer")
    node_page.get_by_role("button", name="Read back now").click()
    alert = node_page.locator("#request-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Not allowed (403): This needs the operator role.")
    expect(alert).to_contain_text("Reload the page")
    alert.get_by_role("button", name="Dismiss this message").click()
    expect(alert).to_be_hidden()


def test_a_request_too_big_for_the_server_says_so_in_the_alert(node_page, settings):
    settings.REGUI_MAX_ANONYMOUS_REQUEST_BYTES = 100
    settings.REGUI_MAX_REQUEST_BYTES = 200
    node_page.get_by_label("Image", exact=True).fill("docker.io/library/" + "x" * 300)
    node_page.get_by_role("button", name="Test a pull").click()
    expect(node_page.locator("#request-alert")).to_contain_text("Refused (413): The request is larger than 200 bytes.")
    expect(node_page.get_by_label("Image", exact=True)).to_have_value("docker.io/library/" + "x" * 300)  # the form stays


def test_a_server_error_and_no_answer_at_all_are_said_in_the_alert(node_page):
    node_page.route("**/checks/readback/", lambda route: route.fulfill(status=500, body="<!doctype html><p>boom"))
    node_page.get_by_role("button", name="Read back now").click()
    alert = node_page.locator("#request-alert")
    expect(alert).to_contain_text("The server could not finish this (500).")
    expect(node_page.get_by_role("button", name="Read back now")).to_be_visible()  # nothing swapped

    node_page.unroute("**/checks/readback/")
    node_page.route("**/checks/readback/", lambda route: route.abort())
    node_page.get_by_role("button", name="Read back now").click()
    expect(alert).to_contain_text("No answer from regui")


def test_an_ended_session_is_not_swapped_in_as_a_login_form(node_page):
    node_page.context.clear_cookies()
    node_page.get_by_role("button", name="Read back now").click()
    expect(node_page.locator("#request-alert")).to_contain_text("Your session has ended")
    expect(node_page.locator("#node-checks #id_password")).to_have_count(0)
