"""In-process (fake nodes): the rolling policy a push chooses (defaults from its cluster): agents at once,
a pause between batches, stop after N failures, and the health gate after each restart (systemctl
is-active, and optionally Ready in Kubernetes through a server's bundled kubectl)."""

from __future__ import annotations

import pytest
from django.test import Client

from regui.audit.models import AuditEvent
from regui.pushes.models import PushJob, PushPolicy
from tests.fakes.ssh import max_overlap

pytestmark = pytest.mark.django_db(transaction=True)


def execs_by_node(fake_ssh):
    return {e.node: e.span for e in fake_ssh.execs()}


def test_agents_restart_in_batches_of_agents_at_once_each_once_the_batch_before_has_ended(fleet, fake_ssh):
    fleet.add(*["agent"] * 5)
    for name in ("a1", "a2", "a3", "a4", "a5"):
        fleet[name].set_systemctl(restart_seconds=0.2)
    job = fleet.push(agents_at_once="2")
    assert {r.status for r in job.results.all()} == {"changed"}
    spans = execs_by_node(fake_ssh)
    assert max_overlap(list(spans.values())) == 2
    assert spans["a1"].overlaps(spans["a2"]) and spans["a3"].overlaps(spans["a4"])
    assert min(spans["a3"].start, spans["a4"].start) >= max(spans["a1"].end, spans["a2"].end)
    assert spans["a5"].start >= max(spans["a3"].end, spans["a4"].end)
    assert sorted(set(job.results.values_list("step", flat=True))) == [0, 1, 2]


def test_a_percentage_sets_the_batch_from_the_number_of_agents_pushed(fleet, fake_ssh):
    fleet.add(*["agent"] * 4)
    job = fleet.push(agents_at_once="50%")
    assert job.policy["agents_at_once"] == "50%"
    assert [r.step for r in job.results.order_by("node_name")] == [0, 0, 1, 1]


def test_a_pause_separates_a_batch_that_restarted_from_the_next(fleet, fake_ssh):
    fleet.add("server", "agent")
    job = fleet.push(pause_seconds=1)
    spans = execs_by_node(fake_ssh)
    assert spans["a1"].start - spans["s1"].end >= 1.0
    assert job.status == "done" and job.paused_until is None


def test_there_is_no_pause_after_a_step_that_restarted_nothing(fleet, fake_ssh):
    fleet.add("server", "agent")
    fleet.push()
    for node in fleet.fake.nodes.values():
        node.execs.clear()
    job = fleet.push(pause_seconds=30)
    assert {r.status for r in job.results.all()} == {"unchanged"}
    spans = execs_by_node(fake_ssh)
    assert spans["a1"].start - spans["s1"].end < 5


def test_after_n_failures_the_nodes_not_reached_are_skipped_and_given_no_command(fleet, fake_ssh):
    fleet.add(*["agent"] * 5)
    for name in ("a1", "a2"):
        fleet[name].set_systemctl(restart_fails=True)
    res = fleet.results(fleet.push(agents_at_once="1", max_failures=2))
    assert [res[n].status for n in ("a1", "a2", "a3", "a4", "a5")] == ["failed", "failed", "skipped", "skipped", "skipped"]
    assert res["a3"].message == "skipped: 2 node(s) failed, and this push stops after 2"
    assert all(fleet[n].execs == [] for n in ("a3", "a4", "a5"))
    assert fleet["a4"].connects == [] == fleet["a5"].connects, "only the next step is connected ahead"


def test_failures_are_counted_over_the_whole_push_servers_included(fleet):
    fleet.add("server", "agent", "agent", "agent")
    fleet["s1"].set_systemctl(restart_fails=True)
    fleet["a1"].credential = "another key"
    res = fleet.results(fleet.push(agents_at_once="1", max_failures=2))
    assert [res[n].status for n in ("s1", "a1", "a2", "a3")] == ["failed", "failed", "skipped", "skipped"]


def test_an_unreachable_server_stops_the_servers_after_it_but_not_the_agents(fleet):
    fleet.add("server", "server", "server", "agent")
    fleet["s1"].network = "refused"
    res = fleet.results(fleet.push())
    assert res["s1"].status == "unreachable"
    for later in ("s2", "s3"):
        assert res[later].status == "skipped" and fleet[later].execs == []
        assert res[later].message.startswith("skipped: server s1 was unreachable, and servers restart one at a time")
    assert res["a1"].status == "changed"


def test_the_ready_gate_waits_until_kubernetes_reports_the_restarted_node_ready(fleet, fake_ssh, settings):
    settings.REGUI_READY_WAIT, settings.REGUI_READY_POLL = 10, 0.2
    fleet.add("server", "agent")
    fleet["a1"].set_systemctl(ready_seconds=1.5)
    res = fleet.results(fleet.push(ready_gate=True))
    assert res["s1"].status == res["a1"].status == "changed"
    assert res["a1"].message.endswith("; Ready in Kubernetes") and res["a1"].duration_ms >= 1500
    assert fleet["s1"].kubectl_calls()[0].startswith("get nodes -o jsonpath="), "asked on the server"
    assert fleet["a1"].kubectl_calls() == [], "an agent has no kubeconfig: never asked there"


def test_a_ready_report_from_before_the_restart_does_not_pass_the_gate(fleet, settings):
    settings.REGUI_READY_WAIT, settings.REGUI_READY_POLL = 1, 0.2
    fleet.add("server", "agent")
    fleet["a1"].set_systemctl(ready_seconds=30)  # Ready=True all along, but its heartbeat is older
    res = fleet.results(fleet.push(ready_gate=True))
    assert res["a1"].status == "failed"
    assert "not Ready in Kubernetes: Ready, but not reported since the restart after 1 s (asked s1)" in res["a1"].message


def test_a_server_that_never_gets_ready_fails_and_stops_the_servers_after_it(fleet, settings):
    # 3 s, not 1: a1 must be reported Ready within the same wait, by a fake kubectl (a process) that a
    # loaded machine (load 8 on 2 CPUs) once kept past 1 s.
    settings.REGUI_READY_WAIT, settings.REGUI_READY_POLL = 3, 0.2
    fleet.add("server", "server", "agent")
    fleet["s1"].set_systemctl(not_ready=True)
    res = fleet.results(fleet.push(ready_gate=True))
    assert res["s1"].status == "failed" and "Ready is False" in res["s1"].message
    assert res["s2"].status == "skipped" and "server s1 failed" in res["s2"].message
    assert res["a1"].status == "changed" and "Ready in Kubernetes" in res["a1"].message
    assert len(fleet["s1"].kubectl_calls()) >= 2, "s1 was asked about itself until the wait was over"
    assert fleet["s2"].kubectl_calls(), "the agent was asked about on s2: untouched, not s1, which failed"


def test_kubectl_that_cannot_answer_fails_the_gate_with_its_error(fleet, settings):
    settings.REGUI_READY_WAIT, settings.REGUI_READY_POLL = 0.5, 0.2
    fleet.add("server")
    fleet["s1"].break_kubectl()
    (r,) = fleet.results(fleet.push(ready_gate=True)).values()
    assert r.status == "failed" and "kubectl on s1 failed: The connection to the server" in r.message


def test_an_rke2_gate_runs_rke2s_bundled_kubectl_with_its_kubeconfig(fleet, settings):
    settings.REGUI_READY_POLL = 0.2
    fleet.cluster.distro = "rke2"
    fleet.cluster.save()
    fleet.add("server", "agent")
    res = fleet.results(fleet.push(ready_gate=True))
    assert {r.status for r in res.values()} == {"changed"}
    call = fleet["s1"].kubectl_calls()[0]  # (the fake node's /etc is a folder of its own)
    assert call.startswith("--kubeconfig ") and call.split()[1].endswith("/etc/rancher/rke2/rke2.yaml")
    assert call.split()[2:4] == ["get", "nodes"]


def test_a_push_that_waits_for_ready_needs_a_server_to_ask(fleet):
    fleet.add("agent")
    job = fleet.push(ready_gate=True)
    assert job.status == "refused" and "add the cluster's servers" in job.message
    assert fleet["a1"].connects == []


def test_without_restarts_nothing_waits_for_ready(fleet):
    fleet.add("server", "agent")
    res = fleet.results(fleet.push(ready_gate=True, restart=False))
    assert {r.status for r in res.values()} == {"changed"} and fleet["s1"].kubectl_calls() == []


def operator(fleet) -> Client:
    client = Client()
    client.force_login(fleet.user)
    return client


def test_the_cluster_form_sets_the_defaults_and_history_records_them(fleet):
    client = operator(fleet)
    page = client.get("/clusters/prod/edit/").content.decode()
    assert 'name="policy-agents_at_once"' in page and 'name="policy-ready_gate"' in page
    response = client.post("/clusters/prod/edit/", {
        "name": "prod", "distro": "k3s", "description": "", "policy-agents_at_once": "25%",
        "policy-max_failures": "3", "policy-pause_seconds": "10", "policy-ready_gate": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = PushPolicy.objects.get(cluster=fleet.cluster)
    assert (policy.agents_at_once, policy.max_failures, policy.pause_seconds, policy.ready_gate) == ("25%", 3, 10, True)
    entry = AuditEvent.objects.filter(object_type="cluster", action="update").latest("pk")
    assert entry.changes["push agents at once"] == ["", "25%"] and entry.changes["push ready gate"] == [False, True]
    assert entry.actor_name == "olivia"


def test_the_cluster_form_refuses_an_agents_at_once_that_is_neither_a_number_nor_a_percentage(fleet):
    response = operator(fleet).post("/clusters/prod/edit/", {
        "name": "prod", "distro": "k3s", "policy-agents_at_once": "lots"})
    assert response.status_code == 400 and "neither a number of agents" in response.content.decode()
    assert not PushPolicy.objects.exists()


def test_a_push_from_the_node_list_takes_the_cluster_defaults_where_its_own_choices_are_empty(fleet):
    PushPolicy.objects.create(cluster=fleet.cluster, agents_at_once="3", max_failures=2, pause_seconds=0)
    fleet.add("agent", "agent")
    client = operator(fleet)
    page = client.get("/clusters/prod/nodes/").content.decode()
    assert 'id="push-policy"' in page and 'placeholder="3"' in page
    shown = client.post("/clusters/prod/push/", {"scope": "all", "agents_at_once": "1", "max_failures": "",
                                                 "pause_seconds": "", "ready_gate": ""}, follow=True)
    assert '<input type="hidden" name="agents_at_once" value="1">' in shown.content.decode()
    fleet.cluster.refresh_from_db()
    client.post("/clusters/prod/push/confirm/", {"confirm": "1", "revision": fleet.cluster.revision, "scope": "all",
                                                 "nodes": [n.pk for n in fleet.nodes], "agents_at_once": "1"})
    job = PushJob.objects.get()
    assert job.policy == {"agents_at_once": "1", "max_failures": 2, "pause_seconds": 0, "ready_gate": False}
    assert [r.step for r in job.results.order_by("node_name")] == [0, 1]


def test_a_push_with_a_choice_that_makes_no_sense_pushes_nothing_and_says_why(fleet):
    fleet.add("agent")
    response = operator(fleet).post("/clusters/prod/push/", {"scope": "all", "agents_at_once": "0%"}, follow=True)
    assert "Nothing was pushed: " in response.content.decode() and "between 1% and 100%" in response.content.decode()
    assert not PushJob.objects.exists()


def test_the_job_page_shows_the_plan(fleet):
    fleet.add("server", "agent", "agent", "agent")
    job = fleet.push(agents_at_once="2", pause_seconds=0, max_failures=1)
    page = operator(fleet).get(f"/jobs/{job.pk}/").content.decode()
    assert "1 server, then 3 agents in 2 batches of up to 2." in page
    assert "Stop after 1 failed node:" in page and "2 agents: a1, a2" in page and "server s1" in page


def test_the_confirmation_page_shows_the_plan_with_the_push_s_own_choices_and_queues_with_them(fleet):
    fleet.add("server", "agent", "agent")
    client = operator(fleet)
    shown = client.post("/clusters/prod/push/confirm/", {"scope": "all", "agents_at_once": "1", "pause_seconds": "2"},
                        follow=True)
    page = shown.content.decode()
    assert "1 server, then 2 agents in 2 batches of up to 1." in page and "Pause 2 s" in page
    assert '<input type="hidden" name="agents_at_once" value="1">' in page
    fleet.cluster.refresh_from_db()
    nodes = [str(n.pk) for n in fleet.nodes]
    response = client.post("/clusters/prod/push/confirm/", {
        "confirm": "1", "revision": fleet.cluster.revision, "scope": "all", "nodes": nodes, "agents_at_once": "1",
        "pause_seconds": "0"})
    job = PushJob.objects.get()
    assert response.url == f"/jobs/{job.pk}/" and job.policy["agents_at_once"] == "1"
    assert [r.step for r in job.results.order_by("-role", "node_name")] == [0, 1, 2]
