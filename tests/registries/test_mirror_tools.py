"""Mirror boxes, faster: duplicate a box for another registry; paste several endpoints at once
(issue 11 item 9)."""

from __future__ import annotations

import re

import pytest

from regui.registries.draft import EndpointRow, MirrorBox, RewriteRow, split_endpoints
from regui.registries.mirror_tools import mirror_copy
from regui.registries.models import Mirror
from tests.pages import post_registries

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize(("text", "endpoints"), [
    ("https://a.example\nhttps://b.example\r\n", ["https://a.example", "https://b.example"]),
    ("a.example:5000, b.example:5000", ["a.example:5000", "b.example:5000"]),
    ("  https://a.example  http://10.0.0.5:5000\t,,c ", ["https://a.example", "http://10.0.0.5:5000", "c"]),
    ("https://only.example", ["https://only.example"]),
    (" \n, ", []),
])
def test_endpoints_typed_together_are_split_on_lines_commas_and_spaces(text, endpoints):
    assert split_endpoints(text) == endpoints


def test_a_copy_of_a_mirror_box_has_its_endpoints_and_rewrites_in_rows_of_its_own_and_no_hostname():
    box = MirrorBox("m1", "docker.io", [EndpointRow("e1", "https://a"), EndpointRow("e2", "https://b")],
                    [RewriteRow("r1", "^x/(.*)", "y/$1")])
    copy = mirror_copy(box)
    assert copy.hostname == "" and [e.url for e in copy.endpoints] == ["https://a", "https://b"]
    assert [(r.pattern, r.replacement) for r in copy.rewrites] == [("^x/(.*)", "y/$1")]
    tokens = {copy.token, *(e.token for e in copy.endpoints), *(r.token for r in copy.rewrites)}
    assert len(tokens) == 4 and not tokens & {"m1", "e1", "e2", "r1"}
    assert [e.url for e in mirror_copy(MirrorBox("m2", "quay.io")).endpoints] == [""], "a row to type into"


FORM = {"revision": "0", "mirror": ["m1", "m2"], "m1-hostname": "docker.io", "m1-endpoint": ["e1", "e2"],
        "e1-url": "https://a.example", "e2-url": "http://10.0.0.5:5000", "m1-rewrite": ["r1"],
        "r1-pattern": "^rancher/(.*)", "r1-replacement": "mirror/$1", "m2-hostname": "quay.io"}


@pytest.mark.django_db
def test_duplicate_answers_the_posted_box_as_a_new_box_to_insert_after_it(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/registries/duplicate/", {**FORM, "source": "m1"}, **HX)
    page = r.content.decode()
    assert r.status_code == 200 and page.count('class="box mirror-box"') == 1 and "data-duplicated" in page
    assert re.search(r'name="k[0-9a-f]{8}-hostname" value="" placeholder', page)
    assert re.findall(r'name="k[0-9a-f]{8}-url" value="([^"]*)"', page) == ["https://a.example", "http://10.0.0.5:5000"]
    assert re.search(r'name="k[0-9a-f]{8}-replacement" value="mirror/\$1"', page)
    assert not re.search(r'name="(m1|e1|e2|r1)-', page)
    assert r["HX-Trigger-After-Settle"] == '{"regui:changed": {"target": "body"}}'


@pytest.mark.django_db
def test_duplicate_refuses_a_box_the_form_does_not_have_and_viewers(operator_client, viewer_client, cluster):
    url = f"/clusters/{cluster.name}/registries/duplicate/"
    assert operator_client.post(url, {**FORM, "source": "m9"}, **HX).status_code == 404
    assert viewer_client.post(url, {**FORM, "source": "m1"}, **HX).status_code == 403


@pytest.mark.django_db
def test_pasted_endpoints_come_back_as_one_row_each_of_the_same_mirror(operator_client, cluster):
    url = f"/clusters/{cluster.name}/registries/endpoints/"
    r = operator_client.post(url, {"parent": "m1", "text": "https://a.example\nb.example:5000, c.example"}, **HX)
    page = r.content.decode()
    assert re.findall(r'name="k[0-9a-f]{8}-url" value="([^"]*)"', page) == [
        "https://a.example", "b.example:5000", "c.example"]
    assert page.count('<input type="hidden" name="m1-endpoint"') == 3
    assert operator_client.post(url, {"parent": "<x>", "text": "a b"}, **HX).status_code == 404


@pytest.mark.django_db
def test_every_mirror_box_offers_duplicate_and_says_endpoints_may_be_pasted_together(operator_client, cluster):
    page = operator_client.get(f"/clusters/{cluster.name}/").content.decode()
    assert "Duplicate mirror" in page and "Paste several at once" in page and "js/mirror-tools.js" in page
    assert f'data-endpoint-rows="/clusters/{cluster.name}/registries/endpoints/"' in page
    assert re.search(r'data-endpoint-of="k[0-9a-f]{8}"', page)


@pytest.mark.django_db
def test_a_form_posted_without_the_script_splits_an_endpoint_field_too(operator_client, cluster):
    data = {"revision": "0", "mirror": ["m1"], "m1-hostname": "docker.io", "m1-endpoint": ["e1", "e2"],
            "e1-url": "https://a.example, https://b.example\nhttps://c.example", "e2-url": "https://d.example"}
    r = post_registries(operator_client, cluster, data)
    assert r.status_code == 302
    assert Mirror.objects.get().endpoints == ["https://a.example", "https://b.example", "https://c.example",
                                              "https://d.example"]


@pytest.mark.django_db
def test_a_refused_form_without_the_script_comes_back_with_a_row_per_endpoint(operator_client, cluster):
    data = {"revision": "0", "mirror": ["m1"], "m1-hostname": "docker.io", "m1-endpoint": ["e1"],
            "e1-url": "https://a.example ftp://b.example"}
    page = post_registries(operator_client, cluster, data).content.decode()
    assert 'id="e1-url" name="e1-url" value="https://a.example"' in page
    assert re.search(r'id="(k[0-9a-f]{8})-url" name="\1-url" value="ftp://b.example"', page)
    assert re.search(r'id="err-k[0-9a-f]{8}-url" role="alert"><span>Scheme “ftp” is not supported', page)
