"""A person in Chromium double-clicks the push confirmation's button, or confirms, presses Back and
confirms again: one job is queued, and they land on it, told so when their second request joined it
(regui/pushes/joining.py). Fake nodes; the job is only queued (no worker takes it), so it is still on
its way when the second request comes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queued_only(fake_ssh, make_user, monkeypatch):
    """The cluster prod with two nodes with approved keys; a queued job's chunks are recorded, not sent."""
    from regui.pushes import services
    from tests.fakes.fleet import Fleet

    sent: list[int] = []
    monkeypatch.setattr(services, "celery_send", lambda job_id, chunks: sent.extend(chunks))
    fleet = Fleet(fake_ssh, make_user("owen", "operator"))
    fleet.add("server", "agent")
    return sent


def open_confirmation(page, live_server) -> None:
    page.goto(f"{live_server.url}/clusters/prod/nodes/")
    page.get_by_role("button", name="Push to all nodes").click()
    expect(page.locator("h1")).to_contain_text("Push to every node of prod?")


def confirming_posts(page) -> list[str]:
    """The confirmation POSTs the page sends, as they go."""
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/push/confirm/" in r.url else None)
    return posts


def test_a_double_click_on_push_queues_one_job_and_shows_it(queued_only, logged_in, live_server):
    from regui.pushes.models import PushJob

    page = logged_in("pia", "operator")
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/push/confirm/" in r.url else None)
    open_confirmation(page, live_server)
    posts = confirming_posts(page)
    page.get_by_role("button", name="Push to 2 nodes").dblclick()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    page.wait_for_load_state("networkidle")
    job = PushJob.objects.get()
    assert page.url.endswith(f"/jobs/{job.pk}/") and job.status == "queued"
    assert job.results.count() == 2 and queued_only == [0]
    assert all(s < 500 for s in statuses), statuses
    # Chromium sends a double click's form once (the second submission replaces the first before it
    # goes); the next test sends two.
    assert len(posts) == 1
    expect(page.locator("h1")).to_contain_text(f"#{job.pk}")


def test_two_clicks_without_waiting_queue_one_job(queued_only, logged_in, live_server):
    from regui.pushes.models import PushJob

    page = logged_in("pia", "operator")
    open_confirmation(page, live_server)
    posts = confirming_posts(page)
    # The second click 50 ms after the first: its POST goes while the first one's answer is awaited.
    page.get_by_role("button", name="Push to 2 nodes").evaluate("b => { b.click(); setTimeout(() => b.click(), 50); }")
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    page.wait_for_load_state("networkidle")
    job = PushJob.objects.get()
    assert page.url.endswith(f"/jobs/{job.pk}/") and queued_only == [0]
    assert len(posts) == 2, "both clicks sent the confirmation"


def test_back_and_confirm_again_lands_on_the_same_job_saying_it_was_sent(queued_only, logged_in, live_server):
    from regui.pushes.models import PushJob

    page = logged_in("pia", "operator")
    open_confirmation(page, live_server)
    page.get_by_role("button", name="Push to 2 nodes").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    job = PushJob.objects.get()
    page.go_back()
    expect(page.locator("h1")).to_contain_text("Push to every node of prod?")
    page.get_by_role("button", name="Push to 2 nodes").click()
    expect(page).to_have_url(re.compile(rf"/jobs/{job.pk}/$"))
    # Back shows the page as it was (its token): the POST is the same confirmation sent again.
    expect(page.locator(".msg")).to_have_text(f"This confirmation was sent already: it queued job #{job.pk} — showing it.")
    assert PushJob.objects.get() == job and queued_only == [0]


def test_a_fresh_confirmation_after_the_job_is_queued_says_it_is_already_queued(queued_only, logged_in,
                                                                                live_server):
    from regui.pushes.models import PushJob

    page = logged_in("pia", "operator")
    open_confirmation(page, live_server)
    page.get_by_role("button", name="Push to 2 nodes").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    job = PushJob.objects.get()
    open_confirmation(page, live_server)
    page.get_by_role("button", name="Push to 2 nodes").click()
    expect(page).to_have_url(re.compile(rf"/jobs/{job.pk}/$"))
    expect(page.locator(".msg")).to_contain_text(
        f"An identical push is already queued (job #{job.pk}) — showing it. Nothing was queued twice.")
    assert PushJob.objects.get() == job and queued_only == [0]
