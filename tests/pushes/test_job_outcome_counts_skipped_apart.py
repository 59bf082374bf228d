"""A job's outcome line counts as failed only the nodes that failed or were unreachable: nodes skipped
(a stop-after-N rolling policy) or interrupted (a worker killed mid-job) were never finished, not failed,
and are counted as unfinished, the word of the job page's "Re-run unfinished nodes" button. The line
said "3 of 10 nodes failed" beside "Push again to the 1 failed node"."""

from __future__ import annotations

from regui.pushes.outcome import outcome_from_counts


def test_skipped_nodes_are_unfinished_not_failed():
    o = outcome_from_counts("done", {"changed": 7, "unreachable": 1, "skipped": 2})
    assert o.key == "partly_failed"
    assert o.text == "partly failed: 1 of 10 nodes failed, 2 unfinished (7 changed, 1 unreachable, 2 skipped)"


def test_interrupted_nodes_alone_are_unfinished():
    o = outcome_from_counts("done", {"changed": 3, "interrupted": 2})
    assert o.text == "partly failed: 2 of 5 nodes unfinished (3 changed, 2 interrupted)"


def test_failed_nodes_alone_read_as_before():
    o = outcome_from_counts("done", {"changed": 1, "failed": 1})
    assert o.text == "partly failed: 1 of 2 nodes failed (1 changed, 1 failed)"
