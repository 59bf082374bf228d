"""Long lines of the registries.yaml preview wrap instead of running off its right edge, and a copy
still gives the file's lines exactly (issue 11 item 17)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG_URL = "https://mirror.example.com/" + "/".join(f"project-segment-{i}" for i in range(12)) + "/tail-end-marker"

MEASURE = """() => {
  const pre = document.getElementById('preview-yaml');
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  let node, at = -1;
  while ((node = walker.nextNode()) && (at = node.data.indexOf('tail-end-marker')) < 0) {}
  const range = document.createRange();
  range.setStart(node, at);
  range.setEnd(node, at + 'tail-end-marker'.length);
  const marker = range.getBoundingClientRect(), box = pre.getBoundingClientRect();
  const all = document.createRange();
  all.selectNodeContents(pre);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(all);
  return {scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth, markerRight: marker.right,
          boxRight: box.right, copied: selection.toString(), text: pre.textContent};
}"""


def test_a_long_preview_line_wraps_and_its_right_end_shows_without_scrolling(logged_in, live_server):
    from regui.registries.importing import registries_import
    from regui.registries.models import Cluster

    cluster = Cluster.objects.create(name="prod")
    registries_import(cluster=cluster, text=f'mirrors:\n  docker.io:\n    endpoint: ["{LONG_URL}"]\n', replace=True)
    page = logged_in()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/clusters/prod/")
    expect(page.locator("#preview-yaml")).to_contain_text("tail-end-marker")

    m = page.evaluate(MEASURE)
    assert m["scrollWidth"] <= m["clientWidth"], "the preview scrolls sideways"
    assert m["markerRight"] <= m["boxRight"], "the end of the long line is cut off"
    # Wrapping is only on screen: the text, and what a copy takes, keep the line whole.
    assert f"- {LONG_URL}" in m["text"] or f'- "{LONG_URL}"' in m["text"]
    assert LONG_URL in m["copied"]
    assert m["copied"].replace("\r\n", "\n").rstrip("\n") == m["text"].rstrip("\n")
