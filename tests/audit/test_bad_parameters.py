"""Parameters no page link makes (huge cursors, digits int() refuses, the last day of the calendar,
a lone surrogate in an imported key) answer 400 with what was wrong, never a server error."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query, says", [
    ("before=999999999999999999-1", "page link is not valid"),
    ("after=999999999999999999-1", "page link is not valid"),
    ("before=²-1", "page link is not valid"),
    ("after=1-²", "page link is not valid"),
    ("date_to=9999-12-31", "To must be between"),
    ("date_from=0001-01-01", "From must be between"),
    ("cluster_id=²", "cluster_id must be a whole number"),
    ("node_id=1" + "0" * 30, "node_id must be a whole number"),
    ("secret_id=-1", "secret_id must be a whole number"),
])
def test_the_history_page_answers_400_with_a_message_for_a_value_no_link_makes(viewer_client, query, says):
    r = viewer_client.get(f"/history/?{query}")
    assert r.status_code == 400
    assert says in r.content.decode()


def test_the_history_tabs_answer_400_too(viewer_client, cluster):
    r = viewer_client.get("/clusters/prod/history/?before=999999999999999999-1")
    assert r.status_code == 400 and "page link is not valid" in r.content.decode()


def test_an_htmx_request_gets_the_message_in_a_part_htmx_swaps(viewer_client):
    r = viewer_client.get("/history/?date_to=9999-12-31", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "To must be between" in r.content.decode()


def test_the_export_refuses_what_it_cannot_filter_by(viewer_client):
    r = viewer_client.get("/history/export.csv?date_to=9999-12-31&cluster_id=²")
    assert r.status_code == 400
    assert "To must be between" in r.content.decode() and "cluster_id must be" in r.content.decode()


@pytest.mark.parametrize("query", ["a=²&b=1", "a=1&b=²", "a=1234567890&b=1", "b=x"])
def test_comparing_revisions_by_a_number_int_refuses_answers_400(viewer_client, cluster, query):
    r = viewer_client.get(f"/clusters/prod/revisions/compare/?{query}")
    assert r.status_code == 400 and "must be a whole number" in r.content.decode()


@pytest.mark.parametrize("text", [
    'mirrors:\n  "a\\ud800b":\n    endpoint: ["https://m.example.com"]\n',
    'configs:\n  "\\udfffa.example.com":\n    tls: {insecure_skip_verify: true}\n',
    'mirrors:\n  docker.io:\n    endpoint: ["https://m.example.com"]\n    "x\\ud800": 1\n',
])
def test_an_import_with_an_escaped_lone_surrogate_answers_400_as_k3s_refuses_it(operator_client, cluster, text):
    # yaml.v2 refuses a \u escape of a surrogate (tests/k3s/test_parse_directives.py), so none reaches a key.
    r = operator_client.post("/clusters/prod/import/", {"text": text})
    assert r.status_code == 400
    html = r.content.decode()
    assert "K3s would refuse this file" in html and "found invalid Unicode character escape code" in html


@pytest.mark.parametrize("field, value", [("c1-auth", "²"), ("c1-auth", "9" * 30), ("c1-tls_secret", "²"),
                                          ("e1-url", "https://m.example.com:²/")])
def test_a_registries_form_value_int_refuses_is_a_field_error_not_a_500(operator_client, cluster, field, value):
    from tests.pages import post_registries

    data = {"revision": "0", "mirror": ["m1"], "m1-endpoint": ["e1"], "config": ["c1"],
            "m1-hostname": "docker.io", "e1-url": "https://m.example.com", "c1-hostname": "m.example.com",
            "c1-auth": "none", field: value}
    assert post_registries(operator_client, cluster, data).status_code == 400
    assert post_registries(operator_client, cluster, data, HTTP_HX_REQUEST="true").status_code == 400
