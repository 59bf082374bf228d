"""Logins are throttled per typed username and per client address; failed logins reach the history
at most the limit per client and window, and the name typed there is shown to admins only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from regui.audit.models import AuditEvent, LoginThrottle

pytestmark = pytest.mark.django_db

RIGHT = "pw-mallory-Longer1"  # make_user's password for "mallory"


def attempt(client: Client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused_while_locked(make_user):
    make_user("mallory", "viewer")
    client = Client()
    answers = [attempt(client, "mallory", f"guess-{i}").status_code for i in range(30)]
    assert answers[:4] == [400] * 4 and set(answers[5:]) == {429}
    r = attempt(client, "mallory", RIGHT)
    assert r.status_code == 429 and not logged_in(client)
    assert "Too many failed logins" in r.content.decode() and "try again in 15 minutes" in r.content.decode()


def test_the_lock_ends_after_its_minutes_and_the_right_password_then_works(make_user):
    make_user("mallory", "viewer")
    client = Client()
    for i in range(5):
        attempt(client, "mallory", f"guess-{i}")
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1),
                                 window_start=timezone.now() - timedelta(minutes=16))
    r = attempt(client, "mallory", RIGHT)
    assert r.status_code == 302 and logged_in(client)


def test_the_username_is_locked_from_every_address(make_user):
    make_user("mallory", "viewer")
    for i in range(5):
        attempt(Client(REMOTE_ADDR=f"198.51.100.{i}"), "mallory", f"guess-{i}")
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert attempt(other, "mallory", RIGHT).status_code == 429 and not logged_in(other)


def test_an_address_is_locked_whatever_username_it_tries_next(make_user):
    make_user("mallory", "viewer")
    client = Client(REMOTE_ADDR="198.51.100.7")
    for i in range(5):
        attempt(client, f"someone-{i}", "guess")
    assert attempt(client, "mallory", RIGHT).status_code == 429
    assert attempt(Client(REMOTE_ADDR="198.51.100.8"), "mallory", RIGHT).status_code == 302


def test_an_ipv6_client_cannot_get_a_fresh_budget_from_each_address_of_its_network(make_user):
    make_user("mallory", "viewer")
    for i in range(5):
        attempt(Client(REMOTE_ADDR=f"2001:db8:1:2::{i + 1:x}"), f"someone-{i}", "guess")
    assert attempt(Client(REMOTE_ADDR="2001:db8:1:2:ffff::1"), "mallory", RIGHT).status_code == 429
    assert attempt(Client(REMOTE_ADDR="2001:db8:1:3::1"), "mallory", RIGHT).status_code == 302


def test_a_successful_login_clears_the_usernames_count_but_not_the_addresses(make_user):
    make_user("mallory", "viewer")
    client = Client(REMOTE_ADDR="198.51.100.7")
    for i in range(3):
        attempt(client, "mallory", f"guess-{i}")
    assert attempt(client, "mallory", RIGHT).status_code == 302
    assert not LoginThrottle.objects.filter(key="user:mallory").exists()
    assert LoginThrottle.objects.get(key="addr:198.51.100.7").failures == 3


def test_an_anonymous_client_cannot_flood_the_history_with_failed_logins(make_user):
    client = Client(REMOTE_ADDR="198.51.100.7")
    for i in range(200):
        attempt(client, f"name-{i}", "guess")
    failed = AuditEvent.objects.filter(action="login_failed")
    assert failed.count() == 5
    assert "refused for 15 minutes" in failed.order_by("-id").first().message


def failed_login_by(make_user, typed: str) -> AuditEvent:
    make_user("mallory", "viewer")
    attempt(Client(), typed, "guess")
    return AuditEvent.objects.get(action="login_failed")


TYPED = "Mallory-S3cret-Password"  # a password typed into the username box


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_the_name_typed_into_a_failed_login_is_hidden_from_non_admins(request, make_user, who):
    entry = failed_login_by(make_user, TYPED)
    client = request.getfixturevalue(who)
    pages = [client.get("/history/"), client.get("/history/", HTTP_HX_REQUEST="true"),
             client.get(f"/history/{entry.pk}/"), client.get(f"/history/{entry.pk}/", HTTP_HX_REQUEST="true"),
             client.get(f"/history/{entry.pk}/object/", follow=True), client.get("/history/export.csv")]
    for page in pages:
        text = b"".join(page.streaming_content).decode() if page.streaming else page.content.decode()
        assert TYPED not in text
    assert "(name hidden)" in pages[0].content.decode()


def test_a_non_admin_cannot_find_the_typed_name_by_filtering_for_it(make_user, viewer_client):
    entry = failed_login_by(make_user, TYPED)
    shown = viewer_client.get("/history/", {"user": TYPED}).content.decode()
    assert f'id="entry-{entry.pk}"' not in shown
    rows = list(csv.reader(io.StringIO(b"".join(viewer_client.get(
        "/history/export.csv", {"user": TYPED}).streaming_content).decode())))
    assert len(rows) == 1  # the header only


def test_admins_see_the_typed_name_in_the_list_the_entry_the_filter_and_the_export(make_user, admin_client):
    entry = failed_login_by(make_user, TYPED)
    assert TYPED in admin_client.get("/history/").content.decode()
    assert TYPED in admin_client.get(f"/history/{entry.pk}/").content.decode()
    assert f'id="entry-{entry.pk}"' in admin_client.get("/history/", {"user": TYPED}).content.decode()
    assert TYPED in b"".join(admin_client.get("/history/export.csv").streaming_content).decode()


def test_finished_throttles_are_pruned_by_the_daily_task(make_user):
    from regui.audit.tasks import prune_history_task

    for i in range(5):
        attempt(Client(REMOTE_ADDR="198.51.100.7"), f"someone-{i}", "guess")
    assert LoginThrottle.objects.count() == 6
    prune_history_task()
    assert LoginThrottle.objects.count() == 6, "a lock still running stays"
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(minutes=1),
                                 window_start=timezone.now() - timedelta(minutes=30))
    prune_history_task()
    assert LoginThrottle.objects.count() == 0
