"""In-process (fake nodes): a push never works on a node another job holds. It waits, gives up after
REGUI_NODE_LOCK_WAIT, and takes over a lock gone stale (REGUI_NODE_LOCK_STALE)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from regui.inventory.models import Node
from regui.pushes.models import PushResult

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_JOB = 424242  # a job id no push in these tests has


def hold(node, since=None):
    Node.objects.filter(pk=node.pk).update(lock_job=OTHER_JOB, lock_at=since or timezone.now())


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.mark.parametrize("role", ["agent", "server"])
def test_a_push_waits_while_another_job_holds_the_node(fleet, role):
    (node,) = fleet.add(role)
    hold(node)
    push = fleet.push_in_thread()
    wait_for(lambda: PushResult.objects.filter(
        node=node, status="running", message="waiting until no other push works on this node").exists())
    time.sleep(0.5)  # still waiting half a second later: the lock is what holds it
    assert fleet.fake.execs() == [] and fleet[node.name].connects == []
    released = time.time()
    Node.objects.filter(pk=node.pk).update(lock_job=None, lock_at=None)
    r = push.join().results.get()
    assert r.status == "changed", r.message
    assert fleet.fake.execs()[0].span.start >= released
    node.refresh_from_db()
    assert node.lock_job is None


def test_a_push_gives_up_on_a_node_held_too_long_and_does_the_others(fleet, settings):
    settings.REGUI_NODE_LOCK_WAIT = 0.3
    held, free = fleet.add("agent", "agent")
    hold(held)
    res = fleet.results(fleet.push())
    assert (res["a1"].status, res["a1"].message) == (
        "failed", "Another push held this node for too long; nothing was done.")
    assert fleet["a1"].connects == []
    assert res["a2"].status == "changed"
    held.refresh_from_db()
    assert held.lock_job == OTHER_JOB, "the other job's lock is left alone"


def test_a_stale_lock_is_taken_over(fleet, settings):
    settings.REGUI_NODE_LOCK_WAIT, settings.REGUI_NODE_LOCK_STALE = 0.3, 60
    (node,) = fleet.add("agent")
    hold(node, since=timezone.now() - timedelta(seconds=61))
    r = fleet.push().results.get()
    assert r.status == "changed", r.message
    node.refresh_from_db()
    assert node.lock_job is None


def test_two_simultaneous_pushes_to_one_node_take_turns(fleet, fake_ssh):
    (node,) = fleet.add("agent")
    fleet["a1"].set_systemctl(restart_seconds=0.5)
    first, second = fleet.push_in_thread(), fleet.push_in_thread()
    a, b = first.join().results.get(), second.join().results.get()
    assert sorted([a.status, b.status]) == ["changed", "unchanged"], (a.message, b.message)
    one, two = (e.span for e in fake_ssh.execs())
    assert not one.overlaps(two), "the two pushes worked on the node at the same time"
    assert len(fleet["a1"].restarts()) == 1
    node.refresh_from_db()
    assert node.lock_job is None
