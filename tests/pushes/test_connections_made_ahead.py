"""A chunk's nodes are connected to (TCP only) while the chunk renders, and their handshakes, once the render
is checked, go over those connections (issue 13, the push-vs-floor target): the nodes' sshd start their
sessions on the CPU the render leaves idle. Nothing is sent over them before the handshake; a render that
is refused closes them unused (test_push_prelude.py); a node behind a jump host, or without an approved key,
is not connected to."""

from __future__ import annotations

import time

import pytest

from regui.inventory.jumphosts.models import NodeJumpHost
from regui.inventory.models import Node
from regui.pushes import rolling, services
from tests.jumphosts.helpers import register_jump_host

pytestmark = pytest.mark.django_db(transaction=True)


def _rendering(monkeypatch, fleet, names: tuple[str, ...], seen: list[tuple[int, int]]) -> None:
    real = rolling.cluster_files

    def render(cluster, **kwargs):
        time.sleep(0.1)  # the dials run in the nodes' threads
        seen.append((sum(len(fleet[n].dials) for n in names), sum(len(fleet[n].handshakes) for n in names)))
        return real(cluster, **kwargs)

    monkeypatch.setattr(rolling, "cluster_files", render)


def test_a_chunks_nodes_are_connected_to_while_it_renders_and_their_handshakes_use_those_connections(
        fleet, queued, monkeypatch):
    _, run = queued
    fleet.add("agent", "agent", "agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, restart=False)
    seen: list[tuple[int, int]] = []
    _rendering(monkeypatch, fleet, ("a1", "a2", "a3"), seen)
    job = run(job, 0)
    assert job.status == "done" and {r.status for r in job.results.all()} == {"changed"}
    assert seen == [(3, 0)], "connected to during the render, no handshake yet"
    for name in ("a1", "a2", "a3"):
        (dialed,) = fleet[name].dials
        assert dialed.used and not dialed.closed and len(fleet[name].handshakes) == 1


def test_a_node_behind_a_jump_host_or_without_an_approved_key_is_not_connected_to_ahead(fleet):
    bastion = register_jump_host(fleet.fake.jump_host("bastion-1"))
    behind, unapproved, direct = fleet.add("agent", "agent", "agent")
    NodeJumpHost.objects.create(node=behind, jump_host=bastion, chosen_by="alice")
    Node.objects.filter(pk=unapproved.pk).update(host_key="", host_key_approved_at=None)
    results = fleet.results(fleet.push(restart=False))
    assert results["a1"].status == "changed" and results["a3"].status == "changed"
    assert results["a2"].status == "failed" and results["a2"].message.startswith("no approved host key")
    assert fleet["a1"].dials == [] and fleet["a2"].dials == []
    (dialed,) = fleet["a3"].dials
    assert dialed.used


def test_a_rolling_pushs_later_steps_are_not_connected_to_before_their_turn(fleet):
    fleet.add("server", "server", "agent")
    job = fleet.push()
    assert job.status == "done"
    # The first step (s1) is the chunk's own; s2 and a1 are opened while the step before them restarts.
    assert len(fleet["s1"].dials) == 1
    assert fleet["s2"].dials == [] and fleet["a1"].dials == []
    assert all(len(fleet[n].handshakes) == 1 for n in ("s1", "s2", "a1"))
