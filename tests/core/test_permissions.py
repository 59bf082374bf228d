"""Every page needs a login; viewers read, operators edit, admins manage users and reveal secrets."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/clusters/new/", "/clusters/prod/", "/secrets/", "/users/",
                                  "/clusters/prod/import/", "/clusters/prod/registries.yaml"])
def test_every_page_needs_a_login(path, cluster):
    r = Client().get(path)
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_a_user_without_a_role_sees_nothing(make_user, cluster):
    c = Client()
    c.force_login(make_user("nobody", None))
    assert c.get("/clusters/prod/").status_code == 403


@pytest.mark.parametrize("path", ["/clusters/new/", "/clusters/prod/edit/", "/clusters/prod/import/",
                                  "/clusters/prod/delete/", "/secrets/new/?kind=basic"])
def test_viewers_cannot_open_edit_pages(viewer_client, path, cluster):
    assert viewer_client.get(path).status_code == 403


def test_viewers_read_clusters_and_secrets(viewer_client, cluster):
    assert viewer_client.get("/").status_code == 200
    assert viewer_client.get("/clusters/prod/").status_code == 200
    assert viewer_client.get("/secrets/").status_code == 200


def test_operators_edit_but_do_not_manage_users(operator_client, cluster):
    assert operator_client.get("/clusters/prod/edit/").status_code == 200
    assert operator_client.get("/users/").status_code == 403
    r = operator_client.post("/clusters/new/", {"name": "staging", "distro": "rke2"})
    assert r.status_code == 302


def test_admins_create_users_with_a_role(admin_client):
    from django.contrib.auth.models import User

    from regui.core.roles import role_of

    r = admin_client.post("/users/", {"username": "newbie", "password1": "Very-long-pass-123",
                                      "password2": "Very-long-pass-123", "role": "operator"})
    assert r.status_code == 302
    assert role_of(User.objects.get(username="newbie")) == "operator"


def test_admins_cannot_demote_themselves(admin_client):
    from django.contrib.auth.models import User

    me = User.objects.get(username="alice")
    admin_client.post(f"/users/{me.pk}/", {"role": "viewer", "is_active": "on"})
    from regui.core.roles import role_of

    assert role_of(User.objects.get(pk=me.pk)) == "admin"


def test_posts_without_a_csrf_token_are_refused(make_user, cluster):
    c = Client(enforce_csrf_checks=True)
    c.force_login(make_user("olivia", "operator"))
    assert c.post("/clusters/prod/registries/save/", {"revision": "0"}).status_code == 403


def test_refusals_explain_themselves(viewer_client, cluster):
    r = viewer_client.get("/clusters/new/")
    assert r.status_code == 403 and "needs the operator role" in r.content.decode()
    assert "nothing at this address" in viewer_client.get("/no/such/page/").content.decode()
