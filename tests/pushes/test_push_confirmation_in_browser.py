"""A person in Chromium presses "Push to all nodes" on the node list and gets the plan first: the order
(servers one at a time, then agents), what changes on each node against the revision it last had, who
restarts (the diff laid out as on the other diff pages); they choose "write only" (the plan says no restart) and confirm; the job runs without restarting anything (issue 11
item 6). Fake nodes, Celery eager in the live server's thread."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_push_to_all_shows_the_plan_and_queues_only_when_confirmed(fleet, logged_in, live_server):
    from regui.pushes.models import PushJob
    from regui.registries.importing import registries_import

    s1, a1 = fleet.add("server", "agent")
    fleet.push()
    fleet.add("agent")
    registries_import(cluster=fleet.cluster, text="mirrors:\n  quay.io:\n    endpoint: [https://q.example.com]\n",
                      replace=False)
    page = logged_in("pia", "operator")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}/clusters/prod/nodes/")
    page.get_by_role("button", name="Push to all nodes").click()
    expect(page.locator("h1")).to_contain_text("Push to every node of prod?")
    expect(page.locator(".push-step[data-role=server]")).to_contain_text("one at a time")
    expect(page.locator(".push-step[data-role=agent] li")).to_have_text(["a1", "a2"])
    expect(page.locator("tr.push-node-plan[data-node=s1] .restart")).to_have_text("restarts k3s if its file changes")
    expect(page.locator(".push-change").first).to_contain_text("s1, a1: from revision 1")
    expect(page.locator(".push-change").first.locator("tr.add").first).to_contain_text("quay.io")
    added = page.locator(".push-change tr.add td.code").first  # laid out by history.css: keeps the YAML's indentation
    assert added.evaluate("td => getComputedStyle(td).whiteSpace") == "pre-wrap"
    expect(page.locator(".push-change[data-change=unknown]")).to_contain_text("a2: unknown, will be replaced")
    assert PushJob.objects.count() == 1, "showing the plan queues nothing"
    expect(page.locator("#confirm-plan-restart")).to_contain_text("Expected restarts: 3 of 3.")
    expect(page.locator("#confirm-plan-write-only")).to_be_hidden()

    page.get_by_label("write only, don't restart").check()
    expect(page.locator("tr.push-node-plan[data-node=s1] .restart")).to_have_text("no restart (write only)")
    expect(page.locator("#confirm-plan-restart")).to_be_hidden()
    expect(page.locator("#confirm-plan-write-only")).to_contain_text("(write only, no restart)")
    page.get_by_role("button", name="Push to 3 nodes").click()
    expect(page.locator(".job-outcome [data-outcome]")).to_have_text("succeeded")
    job = PushJob.objects.order_by("-pk").first()
    assert job is not None and not job.restart and job.results.count() == 3
    assert not job.results.filter(restarted=True).exists()
    assert not errors, errors
