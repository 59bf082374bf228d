"""Unsaved edits of the Registries page: kept as the user types (never a password), offered back when
the page is opened again, restored into the form or discarded (issue 11 item 2)."""

from __future__ import annotations

import html

import pytest

from regui.registries.draft import ConfigBox, Draft, EndpointRow, MirrorBox, RewriteRow, draft_from_post
from regui.registries.models import Cluster, UnsavedEdits
from regui.registries.services import registries_save
from regui.registries.unsaved import draft_data, draft_from_data, same_content, unsaved_offer
from tests.formdata import posted
from tests.pages import post_registries

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
PASSWORD = "typed-pw-never-kept-1"


def form(revision: int = 0, **extra) -> dict:
    data = {
        "revision": str(revision), "message": "mirror for docker.io",
        "mirror": ["m1"], "m1-hostname": "docker.io", "m1-endpoint": ["e1"], "e1-url": "https://mirror.example.com",
        "m1-rewrite": ["r1"], "r1-pattern": "^rancher/(.*)", "r1-replacement": "mirror/$1",
        "config": ["c1"], "c1-hostname": "mirror.example.com", "c1-auth": "create-basic", "c1-username": "robot",
        "c1-password": PASSWORD, "c1-insecure_skip_verify": "1",
    }
    data.update(extra)
    return data


def keep(client, cluster, data: dict):
    return client.post(f"/clusters/{cluster.name}/registries/unsaved/keep/", data)


def test_the_page_keeps_what_an_operator_typed_but_never_a_password(operator_client, cluster):
    r = keep(operator_client, cluster, form())
    assert r.status_code == 204 and r["X-Regui-Unsaved"] == "kept"
    edits = UnsavedEdits.objects.get()
    assert edits.user.username == "olivia" and edits.cluster == cluster and edits.base_revision == 0
    assert PASSWORD not in str(edits.data) and "password" not in edits.data["configs"][0]
    assert edits.data["mirrors"][0]["endpoints"] == [{"token": "e1", "url": "https://mirror.example.com"}]
    assert edits.data["message"] == "mirror for docker.io"


def test_kept_edits_come_back_as_the_same_form_without_the_password():
    sent = draft_from_post(posted(form(revision=4)))
    back = draft_from_data(draft_data(sent), revision=4)
    assert back.mirrors == sent.mirrors and back.message == sent.message
    assert back.configs[0].password == "" and back.configs[0].username == "robot"
    assert back.configs[0].insecure_skip_verify and back.configs[0].token == "c1"


def test_malformed_kept_data_reads_as_what_can_be_read():
    draft = draft_from_data({"mirrors": [{"token": "<x>", "hostname": 5, "endpoints": "no"}, "junk"],
                             "configs": [{"auth": None, "insecure_skip_verify": "yes"}]}, revision=1)
    assert [m.hostname for m in draft.mirrors] == [""] and draft.mirrors[0].token.startswith("k")
    assert draft.configs[0].auth == "none" and draft.configs[0].insecure_skip_verify is False
    assert draft_from_data(None, revision=1) == Draft(revision=1)


def test_tokens_empty_boxes_and_passwords_are_no_edit():
    a = Draft(mirrors=[MirrorBox("a1", "docker.io", [EndpointRow("a2", "https://m.example")], [RewriteRow("a3")])],
              configs=[ConfigBox("a4", "m.example", password="x"), ConfigBox("a5")])
    b = Draft(mirrors=[MirrorBox("b1", "docker.io", [EndpointRow("b2", "https://m.example"), EndpointRow("b3")])],
              configs=[ConfigBox("b4", "m.example")])
    assert same_content(a, b)
    assert not same_content(a, Draft(mirrors=b.mirrors, configs=[ConfigBox("b4", "m.example", ca_file="/x")]))
    # The form posts a CA bundle trimmed, whatever way the saved one was saved.
    assert same_content(Draft(configs=[ConfigBox("a1", "h", ca_bundle="PEM\n")]),
                        Draft(configs=[ConfigBox("b1", "h", ca_bundle="PEM")]))


def test_edits_that_hold_what_is_saved_are_not_kept(operator_client, cluster):
    keep(operator_client, cluster, form())
    empty = {"revision": "0", "mirror": ["m9"], "m9-hostname": "", "m9-endpoint": ["e9"], "e9-url": ""}
    r = keep(operator_client, cluster, empty)
    assert r["X-Regui-Unsaved"] == "none" and not UnsavedEdits.objects.exists()


def test_the_page_offers_kept_edits_back_and_restores_them_into_the_form(operator_client, cluster):
    keep(operator_client, cluster, form())
    offer = operator_client.get(f"/clusters/{cluster.name}/registries/unsaved/", **HX).content.decode()
    assert "You have unsaved edits of these registries from" in offer and "Restore your unsaved edits from" in offer
    assert "was saved" not in offer
    restored = operator_client.post(f"/clusters/{cluster.name}/registries/unsaved/restore/", **HX)
    page = html.unescape(restored.content.decode())
    assert restored["HX-Trigger-After-Settle"] == '{"regui:changed": {"target": "body"}}'
    assert '<div id="mirror-boxes" hx-swap-oob="innerHTML">' in page and 'id="config-boxes" hx-swap-oob' in page
    assert 'id="m1-hostname" name="m1-hostname" value="docker.io"' in page
    assert 'id="e1-url" name="e1-url" value="https://mirror.example.com"' in page
    assert 'value="mirror for docker.io"' in page and 'id="save-message"' in page
    assert "Type the passwords of the secrets to create again" in page and PASSWORD not in page
    assert UnsavedEdits.objects.exists(), "restored edits stay kept until they are saved or discarded"


def test_the_offer_says_when_someone_saved_since_the_edits_began(operator_client, make_user, cluster):
    keep(operator_client, cluster, form(revision=0))
    registries_save(cluster=cluster, draft=Draft(revision=0, mirrors=[
        MirrorBox("x1", "quay.io", [EndpointRow("x2", "https://q.example")])]), user=make_user("bob", "operator"))
    offer = operator_client.get(f"/clusters/{cluster.name}/registries/unsaved/", **HX).content.decode()
    assert "Revision 1 was saved by\n    bob after your edits began" in offer


def test_an_edit_sent_before_ones_own_save_and_arriving_after_it_is_not_kept(operator_client, cluster):
    olivia = operator_client.get("/").wsgi_request.user
    registries_save(cluster=cluster, draft=draft_from_post(posted(form())), user=olivia)
    r = keep(operator_client, cluster, form(revision=0, **{"e1-url": "https://other.example"}))
    assert r["X-Regui-Unsaved"] == "none" and not UnsavedEdits.objects.exists()


def test_discarding_forgets_them_and_the_offer_goes(operator_client, cluster):
    keep(operator_client, cluster, form())
    assert operator_client.post(f"/clusters/{cluster.name}/registries/unsaved/discard/", **HX).content == b""
    assert not UnsavedEdits.objects.exists()
    offer = operator_client.get(f"/clusters/{cluster.name}/registries/unsaved/", **HX).content.decode()
    assert "unsaved edits" not in offer
    gone = operator_client.post(f"/clusters/{cluster.name}/registries/unsaved/restore/", **HX)
    assert gone.status_code == 409 and "Those edits are gone" in gone.content.decode()


def test_each_user_has_their_own_edits_of_each_cluster(operator_client, admin_client, cluster):
    other = Cluster.objects.create(name="stage")
    keep(operator_client, cluster, form())
    keep(admin_client, cluster, form(**{"m1-hostname": "quay.io"}))
    keep(operator_client, other, form(**{"m1-hostname": "ghcr.io"}))
    hosts = {(e.user.username, e.cluster.name): e.data["mirrors"][0]["hostname"] for e in UnsavedEdits.objects.all()}
    assert hosts == {("olivia", "prod"): "docker.io", ("alice", "prod"): "quay.io", ("olivia", "stage"): "ghcr.io"}
    olivia = operator_client.get("/").wsgi_request.user
    assert unsaved_offer(user=olivia, cluster=other) is not None


def test_viewers_have_no_unsaved_edits(viewer_client, cluster):
    assert keep(viewer_client, cluster, form()).status_code == 403
    assert viewer_client.get(f"/clusters/{cluster.name}/registries/unsaved/").status_code == 403
    assert viewer_client.post(f"/clusters/{cluster.name}/registries/unsaved/restore/").status_code == 403
    assert not UnsavedEdits.objects.exists()
    assert "unsaved-offer" not in viewer_client.get(f"/clusters/{cluster.name}/").content.decode()


def test_the_page_asks_for_the_offer_and_loads_the_script_that_keeps_edits(operator_client, cluster):
    page = operator_client.get(f"/clusters/{cluster.name}/").content.decode()
    assert f'hx-get="/clusters/{cluster.name}/registries/unsaved/" hx-trigger="load"' in page
    assert f'data-keep-unsaved="/clusters/{cluster.name}/registries/unsaved/keep/"' in page
    assert "js/unsaved-edits.js" in page


def test_keeping_edits_does_not_touch_the_saved_registries(operator_client, cluster):
    keep(operator_client, cluster, form())
    cluster.refresh_from_db()
    assert cluster.revision == 0 and not cluster.mirrors.exists()
    assert post_registries(operator_client, cluster, {"revision": "0", "_action": "preview"}, **HX).status_code == 200



def test_a_save_clears_the_savers_unsaved_edits_and_only_theirs(operator_client, admin_client, cluster):
    keep(operator_client, cluster, form(**{"c1-auth": "create-rke"}))  # differs from any save: no password
    keep(admin_client, cluster, form(**{"m1-hostname": "quay.io"}))
    assert post_registries(operator_client, cluster, form(), HTTP_HX_REQUEST="true")["X-Regui-Saved"]
    assert [e.user.username for e in UnsavedEdits.objects.all()] == ["alice"]
    offer = admin_client.get(f"/clusters/{cluster.name}/registries/unsaved/", **HX).content.decode()
    assert "Revision 1 was saved by\n    olivia after your edits began" in offer
