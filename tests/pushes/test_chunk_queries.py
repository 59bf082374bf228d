"""A chunk's own statements (beside its batched result writes) are few, and as many for thirty nodes as for
three (issue 13, the push-vs-floor target: every statement the job's thread makes while its nodes run
waits for the GIL behind their SSH sessions)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regui.pushes import services, sink
from regui.registries.importing import registries_import

pytestmark = pytest.mark.django_db(transaction=True)

# What a one-step write-only chunk makes now on SQLite, BEGIN and COMMIT included (20 before its claim, its
# revision read, its lock check and its end's second job-row lock were cut).
MOST = 17


def _chunk_queries(fleet, run, monkeypatch, mirror: int) -> int:
    """Statements of one chunk of a new job (every node writes), in the job's thread, not counting its
    result batches."""
    registries_import(cluster=fleet.cluster, text=f'mirrors:\n  docker.io:\n    endpoint: ["https://m{mirror}.example"]\n',
                      replace=True)
    fleet.cluster.refresh_from_db()
    in_batches: list[int] = []
    real = sink.ResultSink.flush

    def flush(self, batch):
        before = len(capture)
        try:
            return real(self, batch)
        finally:
            in_batches.append(len(capture) - before)

    monkeypatch.setattr(sink.ResultSink, "flush", flush)
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, restart=False,
                                   policy=services.effective_policy(fleet.cluster, {"agents_at_once": "100%"}))
    with CaptureQueriesContext(connection) as capture:
        job = run(job, 0)
    assert job.status == "done" and {r.status for r in job.results.all()} == {"changed"}
    return len(capture) - sum(in_batches)


def test_a_chunk_makes_as_many_statements_for_thirty_nodes_as_for_three(fleet, queued, monkeypatch):
    _, run = queued
    fleet.add(*["agent"] * 3)
    _chunk_queries(fleet, run, monkeypatch, 1)  # caches filled (content types)
    few = _chunk_queries(fleet, run, monkeypatch, 2)
    fleet.add(*["agent"] * 27)
    many = _chunk_queries(fleet, run, monkeypatch, 3)
    assert many == few <= MOST
