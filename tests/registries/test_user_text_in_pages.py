"""User-typed text reaches the Registries page as text: braces, quotes and markup in a secret's name
or username neither break the page nor run, for any role (issue: `svc{ci}` made every page a 500)."""

from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regui.registries.models import RegistryConfig, Secret

pytestmark = pytest.mark.django_db

ODD = ["svc{ci}", "}", "{", "{{x}}", "{0}", "{!r}", '"><script>alert(1)</script>', "a%sb", "\u202e", "😀"]


@pytest.mark.parametrize("username", ODD)
def test_a_secret_username_with_braces_or_markup_shows_as_typed(viewer_client, operator_client, cluster, username):
    secret = Secret(name="robot", kind=Secret.Kind.BASIC, username=username, cluster=cluster)
    secret.seal({"password": "pw-1"})
    secret.save()
    RegistryConfig.objects.create(cluster=cluster, hostname="r.example.com", auth_secret=secret)
    for client in (viewer_client, operator_client):
        page = client.get(f"/clusters/{cluster.name}/")
        assert page.status_code == 200
        body = page.content.decode()
        assert f"robot (HTTP Basic Auth: {html.escape(username)})" in body
        assert "<script>alert(1)" not in body


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(username=st.text(max_size=40).filter(lambda t: "\x00" not in t),
       description=st.text(max_size=40).filter(lambda t: "\x00" not in t))
def test_any_username_renders_every_fragment_that_lists_secrets(operator_client, cluster, username, description):
    from django.db import transaction

    with transaction.atomic():
        secret = Secret(name="any", kind=Secret.Kind.BASIC, username=username, description=description,
                        cluster=cluster)
        secret.seal({"password": "pw"})
        secret.save()
        for url in (f"/clusters/{cluster.name}/", f"/clusters/{cluster.name}/registries/add/config/", "/secrets/"):
            r = operator_client.get(url, HTTP_HX_REQUEST="true")
            assert r.status_code == 200, url
            assert html.escape(username) in r.content.decode(), url
        transaction.set_rollback(True)
