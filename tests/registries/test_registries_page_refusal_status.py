"""The Registries page answers what it refuses with the refusal's status and the reason in the answer,
for htmx as for a form posted without it: fields to fix 400, a save over a newer revision 409, a form too
big to read 413 (base.html's htmx-config swaps a 400, 409 and 413 where a 200 went, so the page shows
them as before). A preview of a form with problems refuses nothing: it answers 200.
The YAML view's refusals: test_yaml_view.py; the recipe dialog's: test_recipe_view.py."""

from __future__ import annotations

import html

import pytest

from tests.pages import post_registries

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
SMALL = 4096  # bytes of form read, for the tests of a form too big


def form(revision: int = 0, **extra) -> dict:
    data = {"revision": str(revision), "mirror": ["m1"], "m1-hostname": "docker.io", "m1-endpoint": ["e1"],
            "e1-url": "https://m.example.com", "config": ["c1"], "c1-hostname": "m.example.com", "c1-auth": "none"}
    data.update(extra)
    return data


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("extra", [HX, {}], ids=["htmx", "page"])
def test_a_save_with_fields_to_fix_answers_400_with_what_to_fix(operator_client, cluster, extra):
    answer = post_registries(operator_client, cluster, form(**{"e1-url": "ftp://m.example.com"}), **extra)
    assert answer.status_code == 400 and not answer.get("X-Regui-Saved")
    assert "Nothing was saved: fix the fields marked below." in text(answer)
    assert "e1-url" in text(answer)  # the field's error, for field-errors.js or beside the field
    assert not cluster.revisions.exists()


@pytest.mark.parametrize("extra", [HX, {}], ids=["htmx", "page"])
def test_a_save_from_a_page_older_than_the_saved_revision_answers_409(operator_client, cluster, extra):
    assert post_registries(operator_client, cluster, form(), **HX)["X-Regui-Saved"] == "1"
    answer = post_registries(operator_client, cluster, form(0, **{"e1-url": "https://other.example.com"}), **extra)
    assert answer.status_code == 409 and not answer.get("X-Regui-Saved")
    assert "Someone saved these registries (now revision 1) after you opened the page" in text(answer)
    assert cluster.revisions.count() == 1


@pytest.mark.parametrize("url, says", [
    ("save", "Nothing was saved: the form is too big."),
    ("preview", "regui reads at most"),
    ("insight", "regui reads at most"),
    ("yaml", "# The form is"),
    ("yaml/apply", "Not applied: The form is"),
])
@pytest.mark.parametrize("extra", [HX, {}], ids=["htmx", "page"])
def test_a_form_too_big_to_read_answers_413_with_the_limit(operator_client, cluster, monkeypatch, url, says, extra):
    monkeypatch.setattr("regui.registries.draft.MAX_POST_BYTES", SMALL)
    big = form(message="m" * SMALL)
    answer = operator_client.post(f"/clusters/{cluster.name}/registries/{url}/", big, **extra)
    assert answer.status_code == 413, url
    assert says in text(answer) and "regui reads at most 4 KiB" in text(answer)
    assert not cluster.revisions.exists()


@pytest.mark.parametrize("action", ["preview", "insight"])
def test_a_preview_of_a_form_with_problems_refuses_nothing_and_answers_200(operator_client, cluster, action):
    answer = post_registries(operator_client, cluster, form(_action=action, **{"e1-url": "ftp://m.example.com"}), **HX)
    assert answer.status_code == 200
    said = "1 field(s) need attention" if action == "preview" else "containerd cannot use it (scheme 'ftp'"
    assert said in text(answer)
