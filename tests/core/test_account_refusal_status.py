"""Account pages answer what they refuse with 400 and say why, as every form of regui does (Django's own
views answer 200): a wrong login (429 once throttled: test_login_throttling.py), an admin's change of their
own role, a role that does not exist. Passwords: test_passwords.py."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth.models import User
from django.test import Client

from regui.core.roles import ADMIN, role_of

pytestmark = pytest.mark.django_db


def test_a_wrong_password_at_login_answers_400_and_says_so(make_user):
    make_user("lena", "viewer")
    client = Client()
    r = client.post("/login/", {"username": "lena", "password": "not-her-password"})
    assert r.status_code == 400 and "_auth_user_id" not in client.session
    assert "Please enter a correct username and password" in html.unescape(r.content.decode())


def test_an_admin_removing_their_own_admin_role_is_refused_with_400_and_why(admin_client):
    alice = User.objects.get(username="alice")
    r = admin_client.post(f"/users/{alice.pk}/", {"role": "viewer", "is_active": "on"})
    assert r.status_code == 400 and "You cannot remove your own admin role" in r.content.decode()
    assert role_of(alice) == ADMIN


def test_a_role_that_does_not_exist_is_refused_with_400_and_the_fields_error(admin_client, make_user):
    vera = make_user("vera", "viewer")
    r = admin_client.post(f"/users/{vera.pk}/", {"role": "root", "is_active": "on"})
    assert r.status_code == 400 and "Select a valid choice" in r.content.decode()
    assert role_of(vera) == "viewer"
