"""Asking again for a push that is on its way (regui/pushes/joining.py): a second operator, a double
click, a browser's retried POST. A request identical to a job not finished (same cluster, kind, revision,
write-only choice and rolling policy; every node asked for still to come in it) queues nothing: the
person lands on that job's page, told so, and history records who asked. Anything else is a push of its
own. Fake nodes; jobs only queued (`queued`) where a job must still be on its way."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test import Client

from regui.audit.models import AuditEvent
from regui.pushes import services
from regui.pushes.models import DRIFT_WATCH_ACTOR, PushJob
from regui.registries.importing import registries_import

pytestmark = pytest.mark.django_db(transaction=True)
QUAY = "mirrors:\n  quay.io:\n    endpoint: [https://q.example.com]\n"


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, query: str = "scope=all") -> dict[str, list[str]]:
    """The confirmation page's form, as its Push button sends it; its write-only box (no hidden field)
    ticked when the query asks for write only, as the page shows it."""
    text = client.get(f"/clusters/prod/push/confirm/?{query}").content.decode()
    form = text.split('id="push-confirm-form"')[1].split("</form>")[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        fields.setdefault(name, []).append(value)
    if 'id="confirm-write-only" checked' in form:
        fields["write_only"] = ["1"]
    return fields


def confirm(client: Client, fields: dict[str, list[str]]):
    return client.post("/clusters/prod/push/confirm/", fields)


def told(client: Client, response) -> str:
    """The page the response leads to, with its message."""
    assert response.status_code == 302, response.content.decode()[:500]
    return client.get(response["Location"]).content.decode()


def entries(job: PushJob) -> list[tuple[str, str, dict]]:
    return [(e.actor_name, e.action_text, e.changes) for e in
            AuditEvent.objects.filter(object_type="push_job", object_id=str(job.pk)).order_by("id")]


def test_a_second_operator_asking_for_a_queued_push_lands_on_it_and_history_names_both(fleet, queued, make_user):
    sent, _ = queued
    fleet.add("server", "agent", "agent")
    olivia, bob = fleet.user, make_user("bob", "operator")
    first = confirm(client_of(olivia), page(client_of(olivia)))
    job = PushJob.objects.get()
    assert first["Location"] == f"/jobs/{job.pk}/" and sent == [0]
    as_bob = client_of(bob)
    second = confirm(as_bob, page(as_bob))
    assert PushJob.objects.get() == job and sent == [0], "nothing queued twice"
    text = told(as_bob, second)
    assert f"An identical push is already queued (job #{job.pk}) — showing it." in text
    (start, action, _), joined = entries(job)
    assert (start, action) == ("olivia", "started a push")
    assert joined == ("bob", "asked for a push already under way", {"asked_again_for": [None, ["a1", "a2", "s1"]]})
    assert re.search(r"· also asked for by bob\s*</p>", text), "the job page names who else asked"


def test_one_nodes_push_joins_a_queued_push_to_all_nodes(fleet, queued):
    _, a1 = fleet.add("server", "agent")
    client = client_of(fleet.user)
    confirm(client, page(client))
    job = PushJob.objects.get()
    again = confirm(client, page(client, f"node={a1.pk}"))
    assert PushJob.objects.get() == job and again["Location"] == f"/jobs/{job.pk}/"
    assert entries(job)[-1][2] == {"asked_again_for": [None, ["a1"]]}


def test_push_to_failed_nodes_confirmed_by_two_operators_is_one_job(fleet, queued, make_user):
    _, run = queued
    fleet.add("agent", "agent")
    fleet["a1"].set_systemctl(restart_fails=True)
    olivia, bob = client_of(fleet.user), client_of(make_user("bob", "operator"))
    job = run(services.push_job_create(cluster=fleet.cluster, user=fleet.user), 0)
    assert {r.node_name: r.status for r in job.results.all()} == {"a1": "failed", "a2": "changed"}
    pages = [page(c, "scope=failed") for c in (olivia, bob)]  # both open the page before either confirms
    first, second = confirm(olivia, pages[0]), confirm(bob, pages[1])
    again = PushJob.objects.exclude(pk=job.pk).get()
    assert list(again.results.values_list("node_name", flat=True)) == ["a1"]
    assert first["Location"] == second["Location"] == f"/jobs/{again.pk}/"


def test_a_request_for_nodes_the_queued_push_does_not_hold_gets_a_job_of_its_own(fleet, queued):
    a1, a2 = fleet.add("agent", "agent")
    client = client_of(fleet.user)
    confirm(client, page(client, f"node={a1.pk}"))
    confirm(client, page(client, f"node={a2.pk}"))
    confirm(client, page(client))  # a1 and a2: more than either job holds
    assert [sorted(j.results.values_list("node_name", flat=True)) for j in PushJob.objects.order_by("pk")] == [
        ["a1"], ["a2"], ["a1", "a2"]]


def test_another_rolling_policy_or_write_only_is_another_push(fleet, queued):
    fleet.add("agent", "agent")
    client = client_of(fleet.user)
    for query in ("scope=all", "scope=all&agents_at_once=1", "scope=all&write_only=1", "scope=all&max_failures=1"):
        response = confirm(client, page(client, query))
        assert "An identical push" not in told(client, response)
    assert PushJob.objects.count() == 4
    confirm(client, page(client, "scope=all&write_only=1"))
    assert PushJob.objects.count() == 4, "the write-only push asked twice"


def test_a_running_push_takes_a_request_for_a_node_it_has_yet_to_reach_but_not_for_one_it_finished(
        fleet, queued, settings):
    settings.REGUI_PUSH_CHUNK = 1  # the agents' step: two chunks, sent to the workers
    sent, run = queued
    s1, a1, _ = fleet.add("server", "agent", "agent")
    client = client_of(fleet.user)
    confirm(client, page(client, "scope=all&agents_at_once=2"))
    job = run(PushJob.objects.get(), 0)
    assert job.status == "running" and sent == [0, 1, 2] and fleet.results(job)["s1"].status == "changed"
    joined = confirm(client, page(client, f"node={a1.pk}&agents_at_once=2"))
    assert f"An identical push is already running (job #{job.pk}) — showing it." in told(client, joined)
    own = confirm(client, page(client, f"node={s1.pk}&agents_at_once=2"))
    again = PushJob.objects.exclude(pk=job.pk).get()
    assert own["Location"] == f"/jobs/{again.pk}/" and list(again.results.values_list("node_name", flat=True)) == ["s1"]


def test_a_push_that_ended_is_never_joined(fleet):
    fleet.add("agent")
    client = client_of(fleet.user)
    confirm(client, page(client))
    confirm(client, page(client))
    first, second = PushJob.objects.order_by("pk")
    assert first.results.get().status == "changed" and second.results.get().status == "unchanged"


def test_a_push_queued_for_an_older_revision_is_not_joined(fleet, queued):
    fleet.add("agent")
    client = client_of(fleet.user)
    confirm(client, page(client))
    registries_import(cluster=fleet.cluster, text=QUAY, replace=False)
    confirm(client, page(client))
    older, newer = PushJob.objects.order_by("pk")
    assert newer.revision == older.revision + 1


def test_the_confirmation_sent_twice_by_the_browser_lands_on_its_job_even_after_it_ended(fleet):
    fleet.add("agent")
    client = client_of(fleet.user)
    fields = page(client)
    confirm(client, fields)
    job = PushJob.objects.get()
    assert not job.is_active and job.confirm_token == fields["token"][0]
    registries_import(cluster=fleet.cluster, text=QUAY, replace=False)  # not "changed since this page was shown"
    again = confirm(client, fields)
    assert PushJob.objects.get() == job and again["Location"] == f"/jobs/{job.pk}/"
    assert f"This confirmation was sent already: it queued job #{job.pk} — showing it." in told(client, again)
    assert [e[1] for e in entries(job)] == ["started a push"], "the same request, not a second one"


def test_the_same_page_sent_again_with_write_only_ticked_is_another_push(fleet):
    fleet.add("agent")
    client = client_of(fleet.user)
    fields = page(client)
    confirm(client, fields)
    confirm(client, {**fields, "write_only": ["1"]})
    first, second = PushJob.objects.order_by("pk")
    assert first.restart and not second.restart and second.confirm_token == ""


def test_a_double_click_on_re_run_unfinished_nodes_queues_one_re_run(fleet, queued):
    sent, run = queued
    fleet.add("agent", "agent")
    fleet["a1"].set_systemctl(restart_fails=True)
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, policy=services.effective_policy(
        fleet.cluster, {"agents_at_once": "1", "max_failures": "1"}))
    job = run(job, 0)
    assert job.status == "done" and {r.node_name: r.status for r in job.results.all()} == {
        "a1": "failed", "a2": "skipped"}
    client = client_of(fleet.user)
    clicks = [client.post("/clusters/prod/push/", {"scope": "rerun", "job": job.pk}) for _ in range(2)]
    rerun = PushJob.objects.get(origin=job)
    assert [c["Location"] for c in clicks] == [f"/jobs/{rerun.pk}/"] * 2
    assert f"An identical push is already queued (job #{rerun.pk})" in told(client, clicks[1])


def test_a_double_click_on_check_drift_queues_one_check(fleet, queued):
    fleet.add("agent", "agent")
    client = client_of(fleet.user)
    clicks = [client.post("/clusters/prod/push/", {"scope": "drift"}) for _ in range(2)]
    check = PushJob.objects.get(kind="drift")
    assert f"An identical drift check is already queued (job #{check.pk}) — showing it." in told(client, clicks[1])


def test_a_persons_drift_check_does_not_join_the_drift_watchs_own(fleet, queued):
    fleet.add("agent")
    watch = services.push_job_create(cluster=fleet.cluster, kind="drift", started_by=DRIFT_WATCH_ACTOR)
    client_of(fleet.user).post("/clusters/prod/push/", {"scope": "drift"})
    assert PushJob.objects.exclude(pk=watch.pk).get().created_by_name == "olivia"


@pytest.mark.postgresql  # SQLite serializes every write transaction: two requests there cannot race
def test_two_identical_requests_at_once_make_one_job(fleet, queued, monkeypatch):
    sent, _ = queued
    nodes = fleet.add("agent", "agent")
    real = services.identical_job
    ready = threading.Barrier(2)

    def slow_lookup(*args, **kwargs):
        found = real(*args, **kwargs)
        threading.Event().wait(0.5)  # both would find nothing and both create, but for the cluster's lock
        return found

    monkeypatch.setattr(services, "identical_job", slow_lookup)
    asked: list[services.Requested] = []

    def request() -> None:
        try:
            ready.wait()
            asked.append(services.push_job_request(cluster=fleet.cluster, user=fleet.user, nodes=nodes))
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(a.how for a in asked) == ["joined", "new"]
    assert PushJob.objects.count() == 1 and sent == [0]
