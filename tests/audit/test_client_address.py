"""The client address history records and login throttling count: the one the trusted proxies saw,
never what the client wrote into X-Forwarded-For itself, and only ever a valid IP."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory, override_settings

from regui.audit.context import client_ip
from regui.audit.models import AuditEvent

XFF = "HTTP_X_FORWARDED_FOR"


def ip_of(remote: str = "10.0.0.5", forwarded: str | None = None) -> str | None:
    meta = {"REMOTE_ADDR": remote} | ({XFF: forwarded} if forwarded is not None else {})
    return client_ip(RequestFactory().get("/", **meta))


def test_without_trusted_proxies_the_header_is_ignored():
    assert ip_of("192.0.2.10", "1.2.3.4") == "192.0.2.10"


@override_settings(REGUI_TRUSTED_PROXIES=1)
def test_behind_one_proxy_the_address_it_appended_counts_not_what_the_client_wrote():
    # The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the address it saw.
    assert ip_of("10.0.0.5", "1.2.3.4, 198.51.100.20") == "198.51.100.20"
    assert ip_of("10.0.0.5", "198.51.100.20") == "198.51.100.20"


@override_settings(REGUI_TRUSTED_PROXIES=2)
def test_behind_two_proxies_it_is_the_second_from_the_right():
    assert ip_of("10.0.0.5", "6.6.6.6, 198.51.100.20, 10.0.0.9") == "198.51.100.20"


@override_settings(REGUI_TRUSTED_PROXIES=2)
def test_a_header_that_did_not_pass_every_proxy_gives_no_address():
    assert ip_of("10.0.0.5", "198.51.100.20") is None
    assert ip_of("10.0.0.5") is None


@override_settings(REGUI_TRUSTED_PROXIES=1)
@pytest.mark.parametrize("forged", ["not-an-ip", "<script>", "198.51.100.20:443", "", " , ", "1.2.3.4.5"])
def test_only_a_valid_ip_is_taken(forged):
    assert ip_of("10.0.0.5", forged) is None


def test_an_ipv6_address_is_stored_in_its_canonical_form():
    assert ip_of("2001:DB8:0:0::1") == "2001:db8::1"


@pytest.mark.django_db
@override_settings(REGUI_TRUSTED_PROXIES=1)
def test_a_forged_leftmost_value_does_not_reach_the_history(make_user):
    make_user("mallory", "viewer")
    Client(REMOTE_ADDR="10.0.0.5", **{XFF: "6.6.6.6, 198.51.100.20"}).post(
        "/login/", {"username": "mallory", "password": "wrong"})
    assert AuditEvent.objects.get(action="login_failed").source_ip == "198.51.100.20"


@pytest.mark.django_db
@override_settings(REGUI_TRUSTED_PROXIES=1)
def test_login_throttling_counts_the_same_address(make_user):
    make_user("mallory", "viewer")
    for i in range(5):  # a different forged value each time: still one client
        Client(REMOTE_ADDR="10.0.0.5", **{XFF: f"6.6.6.{i}, 198.51.100.20"}).post(
            "/login/", {"username": f"someone-{i}", "password": "wrong"})
    r = Client(REMOTE_ADDR="10.0.0.5", **{XFF: "7.7.7.7, 198.51.100.20"}).post(
        "/login/", {"username": "mallory", "password": "pw-mallory-Longer1"})
    assert r.status_code == 429
