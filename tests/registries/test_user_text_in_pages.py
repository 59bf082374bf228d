"""User-typed text reaches the Registries page as text: braces, quotes and markup in a secret's name
or username neither break the page nor run, for any role (issue: `svc{ci}` made every page a 500)."""

from __future__ import annotations

import html

import pytest
from hypothesis import HealthCheck, example, given, settings
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


typed = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(text=typed)
@example(text='svc{ci}"><script>alert(1)</script>}')
def test_any_text_in_any_user_typed_field_renders_every_page_and_fragment(admin_client, viewer_client, cluster, text):
    """Whatever got stored (forms check a lot, an import keeps what K3s takes), every page and fragment
    that shows it answers, with the text escaped."""
    from django.db import transaction

    from regui.audit.services import audit_record
    from regui.inventory.models import Node
    from regui.pushes.models import PushJob, PushResult
    from regui.registries.models import Mirror

    with transaction.atomic():
        cluster.description = text
        cluster.save()
        secret = Secret(name="any", kind=Secret.Kind.BASIC, username=text, description=text, cluster=cluster)
        secret.seal({"password": "pw"})
        secret.save()
        Mirror.objects.create(cluster=cluster, hostname=f"m{text}"[:200], endpoints=[text, f"https://{text}"],
                              rewrites=[[text or "^a", text]])
        RegistryConfig.objects.create(cluster=cluster, hostname=f"c{text}"[:200], auth_secret=secret, ca_file=text,
                                      cert_file=text, key_file=text, ca_bundle=text)
        node = Node.objects.create(cluster=cluster, name="n1", address=text or "a", ssh_user=text or "u",
                                   labels={text: text}, last_message=text)
        job = PushJob.objects.create(cluster=cluster, message=text, status=PushJob.Status.DONE)
        PushResult.objects.create(job=job, node=node, node_name="n1", role="agent", status="failed", message=text,
                                  output=text)
        entry = audit_record(action="update", object_type="cluster", object_id=cluster.pk, object_repr=text,
                             cluster=cluster, changes={text: [text, text]}, message=text)
        name = cluster.name
        pages = [
            "/", f"/clusters/{name}/", f"/clusters/{name}/registries/add/config/", f"/clusters/{name}/nodes/",
            f"/clusters/{name}/nodes/{node.pk}/", f"/clusters/{name}/jobs/", f"/jobs/{job.pk}/", "/secrets/",
            "/history/", f"/history/{entry.pk}/", f"/clusters/{name}/history/",
        ]
        for client in (admin_client, viewer_client):
            for url in pages:
                for extra in ({}, {"HTTP_HX_REQUEST": "true"}):
                    r = client.get(url, **extra)
                    assert r.status_code == 200, (url, extra, r.status_code)
                    body = r.content.decode()
                    assert "<script>alert" not in body
        insight = admin_client.post(f"/clusters/{name}/registries/insight/", {
            "revision": "0", "mirror": ["m1"], "m1-hostname": text, "m1-endpoint": ["e1"], "e1-url": text,
            "m1-rewrite": ["r1"], "r1-pattern": text, "r1-replacement": text}, HTTP_HX_REQUEST="true")
        assert insight.status_code == 200
        transaction.set_rollback(True)
