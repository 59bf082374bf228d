"""Rancher's TLS Secret select has no create option: the secret must be made first, elsewhere. On
regui's Registries page the field leads to the Secrets page's TLS form for this cluster, which comes
back to the Registries page after the save (the page's draft keeps the edits typed before)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from regui.registries.models import Secret
from tests.certs import key_and_cert

pytestmark = pytest.mark.django_db

LINK = "/secrets/new/?kind=tls&amp;cluster=prod&amp;next=/clusters/prod/"


def test_the_tls_secret_field_links_to_a_new_tls_secret_for_the_cluster(operator_client, cluster):
    html = operator_client.get("/clusters/prod/").content.decode()
    assert f'href="{LINK}"' in html
    added = operator_client.get("/clusters/prod/registries/add/config/", HTTP_HX_REQUEST="true").content.decode()
    assert f'href="{LINK}"' in added


def test_a_viewer_gets_no_link_to_create_one(viewer_client, cluster):
    assert "/secrets/new/?kind=tls" not in viewer_client.get("/clusters/prod/").content.decode()


def test_the_new_secret_for_the_cluster_goes_back_to_its_registries_page(operator_client, cluster):
    form = operator_client.get("/secrets/new/?kind=tls&cluster=prod&next=/clusters/prod/").content.decode()
    assert '<option value="prod" selected>' in form and 'href="/clusters/prod/">Cancel' in form
    key, cert = key_and_cert("client.test")
    r = operator_client.post("/secrets/new/?kind=tls&cluster=prod&next=/clusters/prod/",
                             {"cluster": "prod", "name": "client", "certificate": cert, "private_key": key})
    assert r.status_code == 302 and r["Location"] == "/clusters/prod/"
    assert Secret.objects.get(name="client").cluster == cluster


# Spellings a browser reads as another site (or a script) that a check of the first characters may miss:
# a backslash is a slash, a tab or line break inside the URL is dropped, a leading blank is trimmed.
ELSEWHERE = ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
             "/\\evil.example/", "\\\\evil.example/", "/\t/evil.example/", "/\n/evil.example/", "///evil.example/",
             " //evil.example/", "\x01//evil.example/", "https:/evil.example/", "http://testserver@evil.example/",
             "data:text/html,x"]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_it_goes_back_only_to_a_page_of_this_site(operator_client, cluster, target):
    key, cert = key_and_cert("client.test")
    r = operator_client.post("/secrets/new/", {"cluster": "prod", "name": "client", "certificate": cert,
                                               "private_key": key}, QUERY_STRING="kind=tls&" + urlencode({"next": target}))
    assert r.status_code == 302 and r["Location"] == "/secrets/"


@pytest.mark.parametrize("target", ELSEWHERE)
def test_its_cancel_link_leads_to_no_other_site(operator_client, cluster, target):
    form = operator_client.get("/secrets/new/?kind=tls&" + urlencode({"next": target})).content.decode()
    assert 'href="/secrets/">Cancel' in form
