"""One filter bar for History (and its tabs) and the node list: templates/partials/_filter.html draws
every control of both, so they look and behave alike."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string

pytestmark = pytest.mark.django_db

CONTROL = re.compile(r'<div class="filter">\s*<label for="([\w-]+)">[^<]+</label>\s*<(input|select) [^>]*id="\1"')


def _bar(html: str, form_id: str) -> str:
    m = re.search(rf'<form [^>]*id="{form_id}"[^>]*>(.*?)</form>', html, re.S)
    assert m, form_id
    assert 'class="filter-bar' in html[m.start():m.start() + 200]
    return m.group(1)


def test_both_pages_draw_their_filters_with_the_shared_control(admin_client, cluster):
    from regui.inventory.models import Node

    Node.objects.create(cluster=cluster, name="n1", address="10.0.0.1")
    history = _bar(admin_client.get("/history/").content.decode(), "history-filters")
    nodes = _bar(admin_client.get("/clusters/prod/nodes/").content.decode(), "node-filters")
    assert [m.group(1) for m in CONTROL.finditer(history)] == [
        "hf-user", "hf-cluster", "hf-type", "hf-action", "hf-from", "hf-to", "hf-request"]
    assert [m.group(1) for m in CONTROL.finditer(nodes)] == ["nf-name", "nf-role", "nf-sync", "nf-label"]
    for bar in (history, nodes):
        assert bar.count('<div class="filter buttons">') == 1 and '<button type="submit">Filter</button>' in bar


def test_the_node_lists_status_choices_carry_their_counts(viewer_client, cluster):
    from regui.inventory.models import Node

    Node.objects.create(cluster=cluster, name="n1", address="10.0.0.1")
    html = viewer_client.get("/clusters/prod/nodes/?role=agent").content.decode()
    assert '<option value="never">never pushed (1)</option>' in html
    assert '<option value="agent" selected>Agent</option>' in html


def test_a_select_keeps_a_value_it_no_longer_offers_and_clear_is_optional():
    html = render_to_string("partials/_filter.html", {
        "kind": "select", "id": "x", "label": "Cluster", "name": "cluster", "value": "gone", "empty": "all",
        "options": [("prod", "prod")], "known": ["prod"], "missing": "(deleted)"})
    assert '<option value="gone" selected>gone (deleted)</option>' in html
    assert '<option value="prod">prod</option>' in html
    offered = render_to_string("partials/_filter.html", {
        "kind": "select", "id": "x", "label": "C", "name": "c", "value": "prod", "options": [("prod", "prod")],
        "known": ["prod"], "missing": "(deleted)"})
    assert "(deleted)" not in offered and '<option value="prod" selected>prod</option>' in offered
    assert "Clear" not in render_to_string("partials/_filter.html", {"kind": "buttons", "clear": False})
    assert 'href="/p/">Clear' in render_to_string("partials/_filter.html",
                                                   {"kind": "buttons", "clear": True, "clear_url": "/p/"})


def test_text_values_are_escaped_and_suggestions_make_a_datalist():
    html = render_to_string("partials/_filter.html", {
        "id": "hf-user", "label": "User", "name": "user", "value": '"><script>x</script>',
        "suggestions": [("(system)", "system (no person)"), ("ada", "")]})
    assert "<script>" not in html and "&quot;&gt;&lt;script&gt;" in html
    assert 'list="hf-users"' in html and '<datalist id="hf-users"><option value="(system)">' in html
