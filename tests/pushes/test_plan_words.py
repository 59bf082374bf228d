"""The rolling plan in words: the confirmation page (its plan and its order) and the job page say it
from the same plan (Plan.rolling_text, Plan.batches_text), so they cannot disagree, with counts that
read as English ("1 agent", "2 batches"), never "agent(s)" or "batch(es)"."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from regui.pushes.models import PushJob
from regui.pushes.plan import Policy, counted, push_plan

pytestmark = pytest.mark.django_db(transaction=True)


def plan_summary(page: str, plan_id: str) -> str:
    part = page[page.index(f'id="{plan_id}"'):]
    return html.unescape(re.search(r"<summary><strong>Plan</strong>: (.*?)</summary>", part, re.S)[1])


def agent_step(page: str) -> str:
    return html.unescape(re.search(r'class="push-step" data-role="agent"><strong>(.*?):</strong>', page, re.S)[1])


@pytest.mark.parametrize("at_once, words", [("10", "2 agents at once"), ("1", "2 agents in 2 batches of up to 1")])
def test_the_confirmation_and_the_job_page_describe_the_same_plan_in_the_same_words(fleet, at_once, words):
    fleet.add("server", "agent", "agent")
    fleet.cluster.refresh_from_db()
    client = Client()
    client.force_login(fleet.user)
    choices = {"scope": "all", "agents_at_once": at_once, "max_failures": "1"}
    confirm = client.get("/clusters/prod/push/confirm/", choices).content.decode()
    shown, order = plan_summary(confirm, "confirm-plan-restart"), agent_step(confirm)
    client.post("/clusters/prod/push/confirm/", {**choices, "confirm": "1", "revision": fleet.cluster.revision,
                                                 "nodes": [n.pk for n in fleet.nodes]})
    job = PushJob.objects.get()
    ran = plan_summary(client.get(f"/jobs/{job.pk}/").content.decode(), "job-plan")
    rolling = f"1 server, then {words}. Stop after 1 failed node: the rest are skipped."
    assert shown.startswith(rolling) and ran.startswith(rolling)
    assert shown.split(" Expected restarts")[0] == ran.split(" Up to ")[0], "only what restarts may differ"
    assert order.startswith(f"{words[0].upper()}{words[1:]}, after the servers"), order
    for page in (shown, ran, order):
        assert "(s)" not in page and "(es)" not in page and "at a time, in this order: each batch" not in page


def test_counts_read_as_english():
    assert [counted(1, "agent"), counted(2, "agent"), counted(1, "batch"), counted(3, "batch")] == [
        "1 agent", "2 agents", "1 batch", "3 batches"]


class N:
    def __init__(self, name: str, role: str) -> None:
        self.name, self.role = name, role


def test_a_batch_larger_than_the_agents_is_one_batch_of_all_of_them_and_a_drift_check_reads_so_too():
    agents = [N(f"a{i}", "agent") for i in range(1, 13)]
    assert push_plan(None, agents[:2], Policy(agents_at_once="10")).batches_text() == "2 agents at once"
    assert push_plan(None, agents, Policy(agents_at_once="10")).batches_text() == "12 agents in 2 batches of up to 10"
    assert push_plan(None, agents[:1], Policy()).batches_text() == "1 agent"
    drift = push_plan(None, agents, Policy(agents_at_once="5"), kind="drift")
    assert drift.summary() == "12 nodes in 3 batches of up to 5 (read only)."
