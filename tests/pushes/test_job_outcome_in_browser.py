"""A person in Chromium sees a push whose every node failed say "failed" (not "done") on the job list
and the job page, and one where some failed say "partly failed", with counts, there and on the node list
(issue 11 item 4); an operator pushes again from the page of a partly failed one to its failed node."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_push_where_every_node_failed_says_failed_on_the_job_list_and_page(fleet, logged_in, live_server):
    fleet.add("agent", "agent", approve=False)
    failed = fleet.push()
    (ok,) = fleet.add("agent")
    partly = fleet.push()
    assert failed.status == partly.status == "done"
    page = logged_in("victor", "viewer")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}/clusters/prod/nodes/")
    expect(page.locator("#last-job [data-outcome]")).to_have_text("partly failed")
    expect(page.locator("#last-job")).to_contain_text(f"#{partly.pk}")

    page.goto(f"{live_server.url}/clusters/prod/jobs/")
    expect(page.locator(f"#job-{failed.pk} [data-outcome]")).to_have_text("failed")
    expect(page.locator(f"#job-{failed.pk}")).to_contain_text("failed on all 2 nodes (2 failed)")
    expect(page.locator(f"#job-{partly.pk} [data-outcome]")).to_have_text("partly failed")
    expect(page.locator(f"#job-{partly.pk}")).to_contain_text("partly failed 2 of 3 nodes failed (1 changed, 2 failed)")

    page.locator(f"#job-{failed.pk} a").click()
    expect(page.locator(".job-outcome [data-outcome]")).to_have_text("failed")
    expect(page.locator(".job-outcome")).to_contain_text("failed on all 2 nodes")
    assert not errors, errors


def test_an_operator_pushes_again_to_a_partly_failed_job_s_failed_node_from_its_page(fleet, logged_in, live_server):
    fleet.add("agent")
    fleet.add("agent", network="refused")
    partly = fleet.push()
    page = logged_in("oscar", "operator")
    page.goto(f"{live_server.url}/jobs/{partly.pk}/")
    page.locator("#retry-failed").click()
    expect(page.locator("h1")).to_have_text(f"Push to the nodes that failed in job #{partly.pk}?")
    expect(page.locator(".push-node-plan")).to_have_count(1)
    expect(page.locator('.push-node-plan[data-node="a2"]')).to_be_visible()
    page.locator("#push-confirm-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    again = partly.cluster.push_jobs.exclude(pk=partly.pk).get()
    assert page.url == f"{live_server.url}/jobs/{again.pk}/"
    expect(page.locator('.result-row [data-status="unreachable"]')).to_have_count(1)
