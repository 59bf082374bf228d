"""In-process (fake nodes): servers restart one at a time, in name order; agents in parallel, at
most REGUI_PUSH_CONCURRENCY at once; the server roll runs beside the agents."""

from __future__ import annotations

import pytest

from tests.fakes.ssh import max_overlap

pytestmark = pytest.mark.django_db(transaction=True)


def test_servers_restart_one_at_a_time_in_name_order(fleet, fake_ssh):
    fleet.add("server", "server", "server")
    for name in ("s1", "s2", "s3"):
        fleet[name].set_systemctl(restart_seconds=0.2)
    job = fleet.push()
    assert {r.status for r in job.results.all()} == {"changed"}
    restarts = fake_ssh.restarts()
    assert [(r.node, r.unit) for r in restarts] == [("s1", "k3s"), ("s2", "k3s"), ("s3", "k3s")]
    assert max_overlap([r.span for r in restarts]) == 1, restarts
    assert max_overlap([e.span for e in fake_ssh.execs()]) == 1, "a server's whole push ends before the next"


def test_agents_restart_in_parallel(fleet, fake_ssh):
    fleet.add("agent", "agent", "agent")
    for name in ("a1", "a2", "a3"):
        fleet[name].set_systemctl(restart_seconds=0.5)
    job = fleet.push()
    assert {r.status for r in job.results.all()} == {"changed"}
    restarts = fake_ssh.restarts()
    assert sorted(r.unit for r in restarts) == ["k3s-agent"] * 3
    assert max_overlap([r.span for r in restarts]) == 3, restarts


def test_no_more_agents_run_at_once_than_the_push_concurrency(fleet, fake_ssh, settings):
    settings.REGUI_PUSH_CONCURRENCY = 2
    fleet.add(*["agent"] * 5)
    for name in ("a1", "a2", "a3", "a4", "a5"):
        fleet[name].set_systemctl(restart_seconds=0.2)
    job = fleet.push()
    assert {r.status for r in job.results.all()} == {"changed"}
    assert len(fake_ssh.restarts()) == 5
    assert max_overlap([e.span for e in fake_ssh.execs()]) == 2


def test_the_server_roll_runs_beside_the_agents_without_taking_their_slots(fleet, fake_ssh, settings):
    settings.REGUI_PUSH_CONCURRENCY = 1
    fleet.add("server", "agent", "agent")
    # The server outlasts both agents: once the roll is over, its thread may take an agent too.
    fleet["s1"].set_systemctl(restart_seconds=1.2)
    for name in ("a1", "a2"):
        fleet[name].set_systemctl(restart_seconds=0.2)
    job = fleet.push()
    assert {r.status for r in job.results.all()} == {"changed"}
    execs = fake_ssh.execs()
    server = next(e.span for e in execs if e.node == "s1")
    agents = [e.span for e in execs if e.node != "s1"]
    assert max_overlap(agents) == 1, "one agent at a time with a concurrency of 1"
    assert all(server.overlaps(a) for a in agents), "the server does not wait for the agents, nor they for it"


def test_a_rke2_roll_restarts_the_rke2_units(fleet, fake_ssh):
    fleet.cluster.distro = "rke2"
    fleet.cluster.save()
    fleet.add("server", "server", "agent")
    fleet.push()
    assert sorted((r.node, r.unit) for r in fake_ssh.restarts()) == [
        ("a1", "rke2-agent"), ("s1", "rke2-server"), ("s2", "rke2-server")]
    assert fleet["s1"].read("/etc/rancher/rke2/registries.yaml") is not None
