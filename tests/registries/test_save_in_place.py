"""A save of the Registries page answers in place, not with a reload: the form gets the saved boxes
under the new revision, and what the rest of the page holds stays as typed (the image of the Test
panel, which reloads itself for the new revision and gets the image back). Browser side:
tests/browser/test_save_keeps_the_page.py."""

from __future__ import annotations

import html
import re

import pytest

from regui.registries.models import Secret
from tests.pages import mirror_form as form
from tests.pages import post_registries

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
IMAGE = "library/nginx:1.27"



def test_a_save_keeps_the_image_typed_in_the_test_panel(operator_client, cluster):
    page = operator_client.get(f"/clusters/{cluster.name}/").content.decode()
    # The panel asks again once the save's answer is swapped in, sending the image typed with it.
    start = page.index('id="registry-test"')
    panel_tag = page[start:page.index(">", start)]
    assert 'hx-trigger="load, htmx:afterSwap from:#save-result"' in panel_tag
    assert 'hx-include="#registry-test-image"' in panel_tag

    saved = post_registries(operator_client, cluster, form(), **HX)
    assert saved.status_code == 200 and saved["X-Regui-Saved"] == "1"
    for reload in ("HX-Redirect", "HX-Refresh", "HX-Location"):
        assert reload not in saved, f"{reload}: the page would reload and lose what was typed"
    assert "saved as revision 1" in saved.content.decode()

    panel = html.unescape(operator_client.get(f"/clusters/{cluster.name}/registries/test/",
                                              {"image": IMAGE}, **HX).content.decode())
    assert f'id="registry-test-image" name="image" value="{IMAGE}"' in panel
    assert "saved</strong> configuration (revision 1)" in panel
    assert 'data-registry="docker.io"' in panel and "https://mirror.example.com:5000/v2" in panel


def test_a_save_answers_with_the_saved_form_under_the_new_revision(operator_client, cluster):
    body = post_registries(operator_client, cluster, form(), **HX).content.decode()
    secret = Secret.objects.get()
    assert '<div class="msg success" id="save-done" role="status">Registries of prod saved as revision 1.\n' in body
    assert '<input type="hidden" name="revision" id="registries-revision" value="1" hx-swap-oob="true">' in body
    assert re.search(r'<p class="muted" id="page-revision" hx-swap-oob="true">.*revision 1 by olivia</p>', body)
    # The boxes as saved: the password became a secret, chosen by the box; the message is for the next save.
    boxes = body[body.index('<div id="mirror-boxes" hx-swap-oob="innerHTML">'):]
    assert 'value="https://mirror.example.com:5000"' in boxes
    assert f'value="{secret.id}" selected' in boxes and "S3cret-pass-xyz" not in body
    assert re.search(r'<input type="text" id="save-message" name="message"[^>]* value=""[^>]*hx-swap-oob="true">', body)
    assert '<div id="unsaved-offer" hx-swap-oob="innerHTML"></div>' in body, "the edits kept before are gone"


def test_the_revision_a_save_answers_is_the_one_the_next_save_needs(operator_client, cluster):
    body = post_registries(operator_client, cluster, form(), **HX).content.decode()
    revision = re.search(r'name="revision" id="registries-revision" value="(\d+)"', body).group(1)
    # One change (a save of nothing changed makes no revision: tests/registries/test_unchanged_save.py).
    now_saved = {"c1-auth": str(Secret.objects.get().id), "c1-username": "", "c1-password": "",
                 "e1-url": "https://other.example.com"}
    again = post_registries(operator_client, cluster, form(revision, **now_saved), **HX)
    assert again["X-Regui-Saved"] == "2", again.content.decode()[:500]


def test_a_save_without_htmx_still_goes_back_to_the_page_with_its_message(operator_client, cluster):
    r = post_registries(operator_client, cluster, form())
    assert r.status_code == 302 and r["Location"] == f"/clusters/{cluster.name}/"
    assert "Registries of prod saved." in operator_client.get(r["Location"]).content.decode()
