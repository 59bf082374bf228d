"""Servers restart one at a time (etcd quorum); agents in parallel; a failed server stops the roll."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_servers_restart_one_at_a_time(stack, nodes):
    h = nodes(3)
    for hn in h.nodes:
        hn.set_systemctl(restart_seconds=0.6)
    stack.add(h, roles=["server"] * 3)
    job = stack.push()
    assert {r.status for r in job.results.all()} == {"changed"}
    spans = sorted((r.start, r.end) for hn in h.nodes for r in hn.restarts())
    assert len(spans) == 3
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end <= start, f"server restarts overlap: {spans}"


def accepted_logins(hn) -> int:
    return (hn.dir / "sshd.log").read_text(errors="replace").count("Accepted publickey")


def test_the_next_server_logs_in_ahead_with_its_key_and_its_push_uses_that_login(stack, nodes):
    from regui.nodechecks.models import HostsReadback

    h = nodes(3)
    for hn in h.nodes:
        hn.set_systemctl(restart_seconds=0.6)
    h.nodes[1].set_systemctl(restart_fails=True)
    stack.add(h, roles=["server"] * 3)
    before = [accepted_logins(hn) for hn in h.nodes]
    job = stack.push()
    res = stack.results(job)
    assert [res[n].status for n in ("node1", "node2", "node3")] == ["changed", "failed", "skipped"]
    # After the job, the read-back (a task of its own) logs in once to each node the push restarted; and
    # the job's row ends before its task has closed node3's connection, whose login may still be going.
    restarted = {r.node_id for r in job.results.filter(restarted=True)}
    push_logins = [1, 1, 1]  # node2 once, ahead, its push on that login; node3 ahead, given no command
    expected = [n + (node.pk in restarted) for n, node in zip(push_logins, stack.nodes, strict=True)]
    deadline = time.monotonic() + 20
    while True:
        logins = [accepted_logins(hn) - b for hn, b in zip(h.nodes, before, strict=True)]
        settled = HostsReadback.objects.filter(job=job).count() == len(restarted) and logins == expected
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert logins == expected, f"restarted (read back): {sorted(restarted)}"
    assert h.nodes[2].read("/etc/rancher/k3s/registries.yaml") is None
    assert h.nodes[2].restarts() == []


def test_agents_restart_in_parallel(stack, nodes):
    h = nodes(3)
    for hn in h.nodes:
        hn.set_systemctl(restart_seconds=1.5)
    stack.add(h, roles=["agent"] * 3)
    stack.push()
    spans = sorted((r.start, r.end) for hn in h.nodes for r in hn.restarts())
    assert spans[-1][0] < spans[0][1], f"agents should overlap: {spans}"


def test_a_failed_server_stops_later_server_restarts_but_not_the_agents(stack, nodes):
    h = nodes(4)
    h.nodes[0].set_systemctl(restart_fails=True)
    stack.add(h, roles=["server", "server", "server", "agent"])
    res = stack.results(stack.push())
    first = "node1"
    assert res[first].status == "failed" and "systemctl restart k3s failed" in res[first].message
    skipped = [n for n in ("node2", "node3") if res[n].status == "skipped"]
    assert len(skipped) == 2 and "etcd quorum" in res["node2"].message
    assert h.nodes[1].read("/etc/rancher/k3s/registries.yaml") is None, "skipped servers are not touched"
    assert res["node4"].status == "changed" and res["node4"].restarted


def test_a_service_that_stays_inactive_fails_the_node(stack, nodes):
    h = nodes(1)
    h.nodes[0].set_systemctl(is_active="failed")
    stack.add(h)
    r = stack.push().results.get()
    assert r.status == "failed" and "k3s-agent is failed, not active" in r.message
