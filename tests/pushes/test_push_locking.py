"""Two pushes never touch the same node at once: the second waits for the first."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_two_simultaneous_pushes_to_one_node_serialize(stack, nodes):
    h = nodes(1)
    h.nodes[0].set_systemctl(restart_seconds=1.5)
    (node,) = stack.add(h)
    first = stack.push(wait=False)
    second = stack.push(wait=False)
    first, second = stack.wait(first), stack.wait(second)
    a, b = first.results.get(), second.results.get()
    assert {a.status, b.status} == {"changed", "unchanged"}, (a.message, b.message)
    spans = sorted([(a.started_at, a.finished_at), (b.started_at, b.finished_at)])
    assert spans[0][1] <= spans[1][0], f"the two pushes overlapped on the node: {spans}"
    assert len(h.nodes[0].restarts()) == 1
    node.refresh_from_db()
    assert node.lock_job is None, "the lock is released"
