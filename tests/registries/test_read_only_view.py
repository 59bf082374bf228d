"""A viewer sees the Registries page exactly as an operator does, read-only: the form a viewer's
browser posts for the preview and the insight tabs holds the same values (issue 11 item 1)."""

from __future__ import annotations

import html
import re

import pytest

from regui.registries.draft import ConfigBox, Draft, EndpointRow, MirrorBox, RewriteRow, new_token
from regui.registries.models import Cluster
from regui.registries.services import SecretInput, registries_save, secret_save
from tests.certs import key_and_cert
from tests.formdata import form_data, form_fields

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def configured(cluster: Cluster) -> Cluster:
    """A cluster using every kind of field the form has."""
    key, cert = key_and_cert()
    robot = secret_save(data=SecretInput(name="robot", kind="basic", username="robot", password="pw-robot-1",
                                         cluster=cluster))
    tls = secret_save(data=SecretInput(name="client", kind="tls", certificate=cert, private_key=key, cluster=cluster))
    draft = Draft(revision=0, mirrors=[
        MirrorBox(new_token(), "docker.io", [EndpointRow(new_token(), "https://mirror.example.com:5000"),
                                             EndpointRow(new_token(), "http://10.0.0.5:5000")],
                  [RewriteRow(new_token(), "^rancher/(.*)", "mirrorproject/$1")]),
    ], configs=[
        ConfigBox(new_token(), "mirror.example.com:5000", auth=str(robot.pk), tls_secret=str(tls.pk), ca_bundle=cert),
        ConfigBox(new_token(), "10.0.0.5:5000", insecure_skip_verify=True, ca_file="/etc/ssl/ca.pem"),
    ])
    registries_save(cluster=cluster, draft=draft)
    cluster.refresh_from_db()
    return cluster


def page_form(client, cluster) -> dict[str, list[str]]:
    return form_data(client.get(f"/clusters/{cluster.name}/").content.decode(), "registries-form")


def answer(client, cluster, what: str, data: dict) -> str:
    body = client.post(f"/clusters/{cluster.name}/registries/{what}/", data, **HX).content.decode()
    return html.unescape(re.sub(r"\b(k[0-9a-f]{8})-", "TOKEN-", body))  # boxes differ by their tokens only


def test_a_viewer_previews_exactly_what_an_operator_previews(viewer_client, operator_client, configured):
    viewer, operator = page_form(viewer_client, configured), page_form(operator_client, configured)
    seen = answer(viewer_client, configured, "preview", viewer)
    assert seen == answer(operator_client, configured, "preview", operator)
    for shown in ("docker.io:", "http://10.0.0.5:5000", "mirrorproject/$1", "<redacted: password of secret robot>",
                  "tls/registries/mirror.example.com:5000/tls.crt", "ca_file: /etc/ssl/ca.pem",
                  "insecure_skip_verify: true"):
        assert shown in seen, shown
    assert '<script id="field-errors-preview" type="application/json">{}</script>' in seen


def test_a_viewer_sees_the_same_hosts_toml_explain_and_lint_as_an_operator(viewer_client, operator_client, configured):
    image = {"explain_image": ["rancher/pause:3.6"]}
    seen = answer(viewer_client, configured, "insight", {**page_form(viewer_client, configured), **image})
    assert seen == answer(operator_client, configured, "insight", {**page_form(operator_client, configured), **image})
    assert '[host."https://mirror.example.com:5000/v2"]' in seen
    assert "https://mirror.example.com:5000/v2/mirrorproject/pause/manifests/3.6?ns=docker.io" in seen


def test_the_form_reader_leaves_out_what_a_browser_does_not_send():
    # What the tests above rely on: the old page (a disabled fieldset) must read as the empty form it sent.
    page = """<form id="f"><input type="hidden" name="revision" value="3"><fieldset disabled>
      <input name="h" value="docker.io"><select name="s"><option value="1" selected>one</option></select>
      </fieldset><input name="ro" value="kept" readonly><input type="checkbox" name="c" value="1">
      <select name="t"><option value="">None</option><option value="7" selected>seven</option></select>
      <select name="d" disabled><option value="9" selected>nine</option></select>
      <textarea name="x">
text</textarea></form><input name="outside" value="no">"""
    assert form_fields(page, "f") == [("revision", "3"), ("ro", "kept"), ("t", "7"), ("x", "text")]


def test_a_viewer_gets_a_read_only_note_and_no_buttons_that_change_anything(viewer_client, configured):
    page = viewer_client.get(f"/clusters/{configured.name}/").content.decode()
    assert "Read-only:</strong> your role is\n  viewer" in page
    for button in ("Add Mirror", "Add Endpoint", "Add Rewrite Config", "Add Registry", "Duplicate mirror",
                   'aria-label="Remove', ">Save<", "Apply to the form", "unsaved-edits.js"):
        assert button not in page, button
    assert 'value="docker.io" placeholder="e.g. docker.io or *" autocomplete="off" spellcheck="false" readonly' in page
    assert re.search(r'<select id="k[0-9a-f]{8}-auth" name="k[0-9a-f]{8}-auth" data-box-auth disabled>', page)
    assert "<fieldset disabled" not in page


def test_an_operator_gets_buttons_and_no_read_only_note(operator_client, configured):
    page = operator_client.get(f"/clusters/{configured.name}/").content.decode()
    form = page[page.index('<form id="registries-form"'):page.index("</form>", page.index('<form id="registries-form"'))]
    assert "Read-only:" not in page and " readonly" not in form and " disabled" not in form
    assert "{#" not in page and "{%" not in page, "no template comment or tag shows as text"
    for button in ("Add Mirror", "Duplicate mirror", ">Save<", "Apply to the form"):
        assert button in page, button
