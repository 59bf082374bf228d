"""Edges of asking again for a push (regui/pushes/joining.py): a confirmation whose push was refused and
is sent again, rolling policies written two ways that mean the same, and a request that joined a job which
then stopped before reaching its nodes. Fake nodes; jobs only queued (`queued`) where one must wait."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages

from regui.audit.models import AuditEvent
from regui.pushes import services
from regui.pushes.files import RenderRefused
from regui.pushes.models import PushJob
from regui.pushes.outcomes import job_interrupt
from regui.pushes.plan import Policy

from .test_identical_push_requests import client_of, confirm, page, told

pytestmark = pytest.mark.django_db(transaction=True)


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_refused_confirmation_sent_again_is_refused_the_same_way_and_queues_no_second_attempt(
        fleet, monkeypatch):
    fleet.add("agent")
    client = client_of(fleet.user)
    fields = page(client)

    def refuse(text):  # a refusal the plan's own check did not see (it changed in between)
        raise RenderRefused("K3s would refuse this file: line 3: mapping values are not allowed here")

    monkeypatch.setattr(services, "render_digest", refuse)
    first = confirm(client, fields)
    refused = PushJob.objects.get()
    assert refused.status == "refused" and refused.confirm_token == fields["token"][0]
    expected = ["Nothing was pushed: K3s would refuse this file: line 3: mapping values are not allowed here"]
    assert first["Location"] == "/clusters/prod/nodes/" and said(first) == expected
    told(client, first)  # the node list shows the message (and so uses it up)
    monkeypatch.undo()  # the cause is gone: the page's answer stays the one it had; a fresh page pushes
    again = confirm(client, fields)
    assert again["Location"] == "/clusters/prod/nodes/" and said(again) == expected
    assert PushJob.objects.get() == refused
    assert AuditEvent.objects.filter(object_type="push_job").count() == 1, "one refusal in history, not two"
    confirm(client, page(client))
    assert PushJob.objects.latest("pk").status != "refused"


@pytest.mark.parametrize("written", ["010", " 10", "10 ", "0010"])
def test_agents_at_once_written_another_way_that_means_the_same_joins_the_queued_push(fleet, queued, written):
    fleet.add("agent", "agent")
    client = client_of(fleet.user)
    confirm(client, page(client, "scope=all&agents_at_once=10"))
    job = PushJob.objects.get()
    again = confirm(client, {**page(client), "agents_at_once": [written]})
    assert PushJob.objects.get() == job and again["Location"] == f"/jobs/{job.pk}/"


def test_a_policy_is_kept_as_its_plain_number_or_percentage():
    assert Policy(agents_at_once=" 010 %").agents_at_once == "10%"
    assert Policy(agents_at_once="007") == Policy(agents_at_once="7")
    assert Policy(agents_at_once="ten").agents_at_once == "ten", "left as typed: policy_problem says why"


def test_a_request_that_joined_a_push_which_then_stopped_is_named_on_its_page_and_re_run_with_it(
        fleet, queued, make_user):
    _, run = queued
    a1, a2, a3 = fleet.add("agent", "agent", "agent")
    fleet["a1"].set_systemctl(restart_fails=True)
    olivia, bob = client_of(fleet.user), client_of(make_user("bob", "operator"))
    rolling = "agents_at_once=1&max_failures=1"
    confirm(olivia, page(olivia, f"scope=all&{rolling}"))
    job = PushJob.objects.get()
    joined = confirm(bob, page(bob, f"node={a3.pk}&{rolling}"))
    assert PushJob.objects.get() == job and joined["Location"] == f"/jobs/{job.pk}/"
    job = run(job, 0)
    assert job.status == "done" and {r.node_name: r.status for r in job.results.all()} == {
        "a1": "failed", "a2": "skipped", "a3": "skipped"}
    text = told(bob, joined)
    assert re.search(r"· also asked for by bob \(a3\)\s*</p>", text), "who asked for the node the job skipped"
    assert "Re-run unfinished nodes (2)" in text
    history = AuditEvent.objects.filter(object_type="push_job", object_id=str(job.pk), actor_name="bob").get()
    assert history.changes == {"asked_again_for": [None, ["a3"]]}
    bob.post("/clusters/prod/push/", {"scope": "rerun", "job": job.pk})
    rerun = PushJob.objects.get(origin=job)
    assert sorted(rerun.results.values_list("node_name", flat=True)) == ["a2", "a3"]


def test_a_request_that_joined_a_push_then_interrupted_is_named_on_its_page_and_re_run_with_it(
        fleet, queued, make_user):
    _, a2 = fleet.add("agent", "agent")
    olivia, bob = client_of(fleet.user), client_of(make_user("bob", "operator"))
    confirm(olivia, page(olivia))
    job = PushJob.objects.get()
    joined = confirm(bob, page(bob, f"node={a2.pk}"))
    job_interrupt(job, list(job.chunks.all()), "the worker running this push stopped")
    assert set(job.results.values_list("status", flat=True)) == {"interrupted"}
    text = told(bob, joined)
    assert re.search(r"· also asked for by bob \(a2\)\s*</p>", text) and "Re-run unfinished nodes (2)" in text
    bob.post("/clusters/prod/push/", {"scope": "rerun", "job": job.pk})
    assert sorted(PushJob.objects.get(origin=job).results.values_list("node_name", flat=True)) == ["a1", "a2"]
