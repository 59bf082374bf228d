"""Everyone can change their own password; every password regui takes passes Django's four
validators with a 12-character minimum (the Users page, the password page, ensure_admin)."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from regui.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

WEAK = ["Short-pw-1", "password1234", "123456789012345", "vera-the-viewer-1"]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password, User(username="vera-the-viewer"))


@pytest.mark.parametrize("role", ["viewer_client", "operator_client", "admin_client"])
def test_every_user_changes_their_own_password_from_a_link_on_every_page(request, role):
    client = request.getfixturevalue(role)
    assert 'href="/password/"' in client.get("/").content.decode()
    username = client.get("/password/").context["user"].username
    r = client.post("/password/", {"old_password": f"pw-{username}-Longer1", "new_password1": "Brand-new-pw-2025",
                                   "new_password2": "Brand-new-pw-2025"})
    assert r.status_code == 302
    assert authenticate(username=username, password="Brand-new-pw-2025") is not None


def test_an_account_with_no_role_can_still_change_its_password(make_user):
    make_user("nora", None)
    client = Client()
    client.force_login(User.objects.get(username="nora"))
    assert client.get("/").status_code == 403
    assert client.get("/password/").status_code == 200


def test_the_password_page_refuses_a_weak_password_and_a_wrong_old_one(viewer_client):
    r = viewer_client.post("/password/", {"old_password": "pw-victor-Longer1", "new_password1": "Short-pw-1",
                                          "new_password2": "Short-pw-1"})
    assert r.status_code == 400 and "at least 12 characters" in r.content.decode()
    r = viewer_client.post("/password/", {"old_password": "wrong", "new_password1": "Brand-new-pw-2025",
                                          "new_password2": "Brand-new-pw-2025"})
    assert r.status_code == 400 and "old password was entered incorrectly" in r.content.decode()


def test_a_password_change_is_in_the_history_without_the_password(viewer_client):
    viewer_client.post("/password/", {"old_password": "pw-victor-Longer1", "new_password1": "Brand-new-pw-2025",
                                      "new_password2": "Brand-new-pw-2025"})
    entry = AuditEvent.objects.filter(object_type="user", action="update").latest("id")
    assert entry.actor_name == "victor" and entry.object_repr == "victor"
    assert entry.changes == {"password": ["(set)", "(changed)"]}


def test_the_users_page_refuses_a_short_password(admin_client):
    r = admin_client.post("/users/", {"username": "newbie", "password1": "Short-pw-1", "password2": "Short-pw-1",
                                      "role": "viewer"})
    assert r.status_code == 400 and not User.objects.filter(username="newbie").exists()
    assert "at least 12 characters" in r.content.decode()


def test_ensure_admin_generates_a_password_that_passes_the_validators(capsys, monkeypatch):
    monkeypatch.delenv("REGUI_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("REGUI_ADMIN_PASSWORD_FILE", raising=False)
    call_command("ensure_admin", username="root-admin")
    password = capsys.readouterr().out.split("with password: ")[1].split()[0]
    validate_password(password, User.objects.get(username="root-admin"))


def test_ensure_admin_refuses_a_weak_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("REGUI_ADMIN_PASSWORD", "admin123")
    with pytest.raises(CommandError, match="too weak"):
        call_command("ensure_admin", username="root-admin")
    assert not User.objects.filter(username="root-admin").exists()
