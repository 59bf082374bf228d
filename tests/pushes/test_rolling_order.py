"""In-process (fake nodes): servers restart one at a time, in name order; then the agents in batches of
"agents at once" (REGUI_PUSH_CONCURRENCY unless the cluster or the push says otherwise), each batch
starting once the one before has ended (tests/pushes/test_rolling_policy.py: the policy's choices)."""

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


def test_the_agents_start_once_the_last_server_has_ended_healthy(fleet, fake_ssh, settings):
    settings.REGUI_PUSH_CONCURRENCY = 1
    fleet.add("server", "server", "agent", "agent")
    for name in ("s1", "s2", "a1", "a2"):
        fleet[name].set_systemctl(restart_seconds=0.2)
    job = fleet.push()
    assert {r.status for r in job.results.all()} == {"changed"}
    execs = fake_ssh.execs()
    assert [e.node for e in execs] == ["s1", "s2", "a1", "a2"]
    assert max_overlap([e.span for e in execs]) == 1, "one server at a time, then one agent at a time"
    last_server = next(e.span for e in execs if e.node == "s2")
    assert all(e.span.start >= last_server.end for e in execs if e.node.startswith("a"))


def test_a_rke2_roll_restarts_the_rke2_units(fleet, fake_ssh):
    fleet.cluster.distro = "rke2"
    fleet.cluster.save()
    fleet.add("server", "server", "agent")
    fleet.push()
    assert sorted((r.node, r.unit) for r in fake_ssh.restarts()) == [
        ("a1", "rke2-agent"), ("s1", "rke2-server"), ("s2", "rke2-server")]
    assert fleet["s1"].read("/etc/rancher/rke2/registries.yaml") is not None
