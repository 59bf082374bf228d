"""Typing fast on the Registries page: a preview still on its way when a newer one is asked for is
dropped (hx-sync "this:replace" aborts it), the newest keystroke's preview is the one shown, and the
console stays clean: an aborted preview is the page's design, not an error (static/js/regui.js keeps
htmx from logging it as one)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLOW = 1.5  # seconds each preview and insight request takes here: far longer than the 300 ms debounce

# Every YAML preview swapped in, as the page showed it.
RECORD = """() => { window.__previews = [];
  document.addEventListener("htmx:afterSwap", (e) => { if (e.detail.target.id === "preview")
    window.__previews.push(document.getElementById("preview-yaml").textContent); }); }"""


@pytest.fixture
def slow_previews(monkeypatch):
    """Each preview is answered late, so the next keystroke's preview is asked for while it is in flight."""
    from regui.registries.views import registries_page

    render = registries_page.draft_render

    def late(*args, **kwargs):
        time.sleep(SLOW)
        return render(*args, **kwargs)

    monkeypatch.setattr(registries_page, "draft_render", late)


def test_typing_fast_shows_the_last_value_and_logs_no_console_error(logged_in, live_server, slow_previews):
    from regui.registries.models import Cluster

    Cluster.objects.create(name="prod", distro="k3s")
    page = logged_in()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    aborted: list[str] = []
    page.on("requestfailed", lambda r: aborted.append(r.url) if "/registries/preview/" in r.url else None)

    page.goto(f"{live_server.url}/clusters/prod/")
    expect(page.locator("#preview-yaml")).to_be_attached()
    page.evaluate(RECORD)
    host = page.locator(".mirror-box").first.get_by_label("Registry Hostname")
    host.click()
    host.press_sequentially("mirror-one", delay=20)  # keystrokes well inside the debounce
    page.wait_for_timeout(700)  # its preview is on its way (the server takes SLOW)...
    host.press_sequentially(".example.com", delay=20)  # ...when these ask for a newer one

    expect(page.locator("#preview-yaml")).to_contain_text("mirror-one.example.com:", timeout=3 * SLOW * 1000)
    page.wait_for_timeout(int(SLOW * 1000) + 500)  # time for anything older to arrive: nothing does
    assert "mirror-one.example.com:" in page.locator("#preview-yaml").text_content()
    assert aborted, "no preview was superseded: the test did not test that"
    shown = page.evaluate("window.__previews")
    assert len(shown) == 1 and "mirror-one.example.com:" in shown[0], shown  # the stale one never showed
    assert errors == [], "\n".join(errors)
