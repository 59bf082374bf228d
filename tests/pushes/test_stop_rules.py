"""What stops a rolling push, unreachable nodes included (issue 13 item 5): servers go one at a time
whatever the push chooses, a server that is unreachable or fails its health gate skips the servers
after it, and "stop after N failures" counts unreachable nodes as failures, across the chunks of a
step. Skipped nodes are never contacted and never counted. Fake nodes, in-process."""

from __future__ import annotations

import pytest

from tests.fakes.ssh import max_overlap

pytestmark = pytest.mark.django_db(transaction=True)


def test_unreachable_nodes_count_towards_stop_after_n(fleet):
    fleet.add(*["agent"] * 5)
    fleet["a1"].network = "refused"
    fleet["a2"].network = "hung"
    res = fleet.results(fleet.push(agents_at_once="1", max_failures=2))
    assert [res[n].status for n in ("a1", "a2", "a3", "a4", "a5")] == [
        "unreachable", "unreachable", "skipped", "skipped", "skipped"]
    assert res["a3"].message == "skipped: 2 node(s) failed, and this push stops after 2"
    assert all(fleet[n].execs == [] for n in ("a3", "a4", "a5"))


def test_an_unreachable_server_and_a_failed_agent_reach_the_limit_together_and_skips_are_not_counted(fleet):
    fleet.add("server", "server", "agent", "agent", "agent")
    fleet["s1"].network = "refused"
    fleet["a1"].set_systemctl(restart_fails=True)
    res = fleet.results(fleet.push(agents_at_once="1", max_failures=2))
    assert res["s1"].status == "unreachable" and res["s2"].status == "skipped", "the server roll stopped"
    assert res["a1"].status == "failed", "a skipped server is no failure: one failure so far, the agents go on"
    assert res["a2"].status == res["a3"].status == "skipped"
    assert "2 node(s) failed, and this push stops after 2" in res["a2"].message


def test_failures_in_several_chunks_of_one_step_are_counted_together(fleet, settings):
    settings.REGUI_PUSH_CHUNK = 1
    fleet.add(*["agent"] * 6)
    fleet["a1"].network = "refused"
    fleet["a3"].network = "refused"
    job = fleet.push(agents_at_once="3", max_failures=2)  # a1-a3 as three tasks, then a4-a6
    res = fleet.results(job)
    assert [res[n].status for n in ("a1", "a2", "a3")] == ["unreachable", "changed", "unreachable"]
    assert {res[n].status for n in ("a4", "a5", "a6")} == {"skipped"}
    assert all(fleet[n].connects == [] for n in ("a4", "a5", "a6"))
    assert job.status == "done" and job.chunks.count() == 3


def test_an_unreachable_server_in_the_middle_keeps_those_before_and_skips_those_after(fleet):
    fleet.add("server", "server", "server", "agent")
    fleet["s2"].network = "hung"
    res = fleet.results(fleet.push())
    assert [res[s].status for s in ("s1", "s2", "s3")] == ["changed", "unreachable", "skipped"]
    assert res["s3"].message.startswith("skipped: server s2 was unreachable") and fleet["s3"].execs == []
    assert res["a1"].status == "changed"


def test_servers_go_one_at_a_time_whatever_the_push_chooses(fleet, fake_ssh, settings):
    settings.REGUI_PUSH_CHUNK = 1
    fleet.add("server", "server", "server", "agent", "agent")
    for node in fleet.fake.nodes.values():
        # The agents' restarts long enough that their two tasks overlap on a loaded machine too.
        node.set_systemctl(restart_seconds=1.0 if node.name.startswith("a") else 0.2)
    job = fleet.push(agents_at_once="100%")
    assert job.status == "done"
    servers = [e.span for e in fake_ssh.execs() if e.node.startswith("s")]
    agents = [e.span for e in fake_ssh.execs() if e.node.startswith("a")]
    assert max_overlap(servers) == 1 and max_overlap(agents) == 2
    assert max(s.end for s in servers) <= min(a.start for a in agents)


def test_an_unreachable_server_stops_the_roll_with_the_ready_gate_too_and_is_not_asked_about_agents(fleet, settings):
    settings.REGUI_READY_WAIT = 2
    fleet.add("server", "server", "agent")
    fleet["s1"].network = "refused"
    res = fleet.results(fleet.push(ready_gate=True))
    assert res["s1"].status == "unreachable" and res["s2"].status == "skipped" and fleet["s2"].connects != []
    assert res["a1"].status == "changed" and res["a1"].message.endswith("; Ready in Kubernetes"), res["a1"].message
    assert fleet["s1"].execs == [], "kubectl ran on s2, which the push skipped but which answers"
