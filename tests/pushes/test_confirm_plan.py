"""The confirmation of a cluster push shows its plan (issue 13 item 5): the steps in order (servers one
at a time, then the agents' batches, each naming its nodes), the pauses, what stops the push, the
health gate and the expected restarts, for the cluster's defaults and for a push's own choices."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from regui.pushes.models import PushPolicy
from regui.registries.importing import registries_import

pytestmark = pytest.mark.django_db(transaction=True)
QUAY = "mirrors:\n  quay.io:\n    endpoint: [https://q.example.com]\n"


@pytest.fixture
def olivia(fleet):
    client = Client()
    client.force_login(fleet.user)
    return client


def steps(page: str, which: str = "restart") -> list[str]:
    plan = page[page.index(f'id="confirm-plan-{which}"'):]
    return [re.sub(r"<[^>]+>", "", s).strip() for s in re.findall(r"<li>(.*?)</li>", plan[:plan.index("</details>")])]


def test_the_plan_of_a_push_with_its_own_choices_lists_each_step_in_order(fleet, olivia):
    PushPolicy.objects.create(cluster=fleet.cluster, agents_at_once="10")
    fleet.add("server", "server", "agent", "agent", "agent", "agent", "agent")
    page = olivia.get("/clusters/prod/push/confirm/?scope=all&agents_at_once=40%25&pause_seconds=5&max_failures=2"
                      "&ready_gate=1").content.decode()
    assert ("2 servers one at a time, then 5 agents in 3 batches of up to 2. Pause 5 s after a step that "
            "restarted a node. Stop after 2 failed nodes: the rest are skipped.") in page
    assert "then Ready in Kubernetes (kubectl on a server)" in page
    assert steps(page) == ["server s1", "after a 5 s pause if the step before restarted: server s2",
                           "after a 5 s pause if the step before restarted: 2 agents: a1, a2",
                           "after a 5 s pause if the step before restarted: 2 agents: a3, a4",
                           "after a 5 s pause if the step before restarted: 1 agent: a5"]
    assert "Expected restarts: 7 of 7." in page, "no node has this file yet"


def test_the_plan_with_the_clusters_defaults_counts_only_the_restarts_a_changed_file_makes(fleet, olivia):
    PushPolicy.objects.create(cluster=fleet.cluster, agents_at_once="50%")
    s1, a1, a2 = fleet.add("server", "agent", "agent")
    fleet.push()
    page = olivia.get("/clusters/prod/push/confirm/?scope=all").content.decode()
    assert "1 server, then 2 agents in 2 batches of up to 1." in page
    assert "Expected restarts: 0 of 3." in page, "every node has the file already"
    registries_import(cluster=fleet.cluster, text=QUAY, replace=False)
    fleet.push([a1])
    page = olivia.get("/clusters/prod/push/confirm/?scope=all").content.decode()
    assert "Expected restarts: 2 of 3." in page
    assert steps(page) == ["server s1", "1 agent: a1", "1 agent: a2"]


def test_a_node_owing_an_earlier_restart_is_expected_to_restart(fleet, olivia):
    (a1,) = fleet.add("agent")
    fleet.push(restart=False)
    page = olivia.get(f"/clusters/prod/push/confirm/?node={a1.pk}").content.decode()
    assert "Expected restarts: 1 of 1." in page and "to apply an earlier write-only push" in page


def test_a_push_that_waits_for_ready_without_a_server_is_refused_on_its_confirmation(fleet, olivia):
    fleet.add("agent")
    response = olivia.get("/clusters/prod/push/confirm/?scope=all&ready_gate=1")
    assert response.status_code == 409 and "Waiting for Ready asks a server" in response.content.decode()


def test_the_page_carries_the_write_only_plan_too_for_the_box_to_switch_to(fleet, olivia):
    fleet.add("server", "agent", "agent")
    page = olivia.get("/clusters/prod/push/confirm/?scope=all&agents_at_once=1").content.decode()
    assert '<div class="push-plan" data-plan="restart">' in page
    assert '<div class="push-plan" data-plan="write-only" hidden>' in page
    write_only = page[page.index('id="confirm-plan-write-only"'):]
    assert "1 server, then 2 agents in 2 batches of up to 1 (write only, no restart)." in write_only
    page = olivia.get("/clusters/prod/push/confirm/?scope=all&write_only=1").content.decode()
    assert '<div class="push-plan" data-plan="restart" hidden>' in page
    assert "Expected restarts: 3 of 3." in page[page.index('id="confirm-plan-restart"'):]
