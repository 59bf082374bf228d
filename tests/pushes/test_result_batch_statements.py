"""A batch of node results (their PushResult rows, the nodes' state and lock, their history entries) is
written in as many statements for thirty nodes as for three (issue 13: every statement of the job's
thread waits for the GIL behind the chunk's SSH sessions; a prepared statement run once per row counts
once per row here, as the database runs it)."""

from __future__ import annotations

import copy

import pytest
from django.db import connection, transaction
from django.utils import timezone

from regui.audit.models import AuditEvent
from regui.core import bulk_sql
from regui.inventory.models import Node
from regui.pushes import sink
from regui.pushes.models import PushResult

pytestmark = pytest.mark.django_db(transaction=True)


def _outcomes(fleet, monkeypatch) -> list[sink.NodeOutcome]:
    """Each node's outcome of a real push, as the job's thread got them."""
    got: list[sink.NodeOutcome] = []
    real = sink.outcomes_write

    def keep(outcomes):
        got.extend(copy.deepcopy(o) for o in outcomes)
        return real(outcomes)

    monkeypatch.setattr(sink, "outcomes_write", keep)
    job = fleet.push(restart=False, agents_at_once="100%")
    monkeypatch.setattr(sink, "outcomes_write", real)
    assert job.status == "done" and len(got) == len(fleet.nodes)
    return got


def _written(outcomes: list[sink.NodeOutcome]) -> int:
    """Writes the batch again over rows put back as they were while the push ran; the statements the
    database ran (BEGIN and COMMIT aside)."""
    results, nodes = [o.result.pk for o in outcomes], [o.node.pk for o in outcomes]
    PushResult.objects.filter(pk__in=results).update(status="running", message="", key_after="", finished_at=None)
    Node.objects.filter(pk__in=nodes).update(lock_job=outcomes[0].result.job_id, lock_at=timezone.now(),
                                             sync_state="never", last_sync_key="", last_message="")
    ran = [0]

    def count(execute, sql, params, many, context):
        if not sql.startswith("BEGIN"):  # SQLite opens its transaction by a statement
            ran[0] += len(params) if many else 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count), transaction.atomic():
        sink.outcomes_write(copy.deepcopy(outcomes))
    return ran[0]


def _as_pushed(outcomes: list[sink.NodeOutcome], entries: int) -> None:
    """Each result, its node's state with its lock freed, and a history entry each, as the push left them."""
    for o in outcomes:
        result, node = PushResult.objects.get(pk=o.result.pk), Node.objects.get(pk=o.node.pk)
        assert (result.status, result.message, result.key_after) == ("changed", o.result.message, o.result.key_after)
        assert (result.finished_at, result.duration_ms, result.output) == (
            o.result.finished_at, o.result.duration_ms, o.result.output)
        assert (node.sync_state, node.last_sync_key, node.last_message) == (
            "in_sync", o.node_fields["last_sync_key"], o.node_fields["last_message"])
        assert (node.lock_job, node.lock_at, node.last_checked_at) == (None, None, o.node_fields["last_checked_at"])
    added = AuditEvent.objects.filter(action="push_result").order_by("id")[entries:]
    assert [(e.node_id_ref, e.changes, e.message, e.actor_name) for e in added] == [
        (o.node.pk, o.event.changes, o.event.message, "olivia") for o in outcomes if o.event]


def test_a_batch_of_thirty_results_takes_as_many_statements_as_a_batch_of_three(fleet, monkeypatch):
    fleet.add(*["agent"] * 30)
    outcomes = _outcomes(fleet, monkeypatch)
    few = _written(outcomes[:3])
    entries = AuditEvent.objects.filter(action="push_result").count()
    many = _written(outcomes)
    assert many == few <= 3  # the results, the nodes (one set of fields), the history entries
    _as_pushed(outcomes, entries)


def test_a_database_that_cannot_update_from_a_list_of_values_writes_the_same_one_row_at_a_time(
        fleet, monkeypatch):
    fleet.add(*["agent"] * 4)
    outcomes = _outcomes(fleet, monkeypatch)
    monkeypatch.setattr(bulk_sql, "update_from_values", lambda: False)  # SQLite before 3.33
    entries = AuditEvent.objects.filter(action="push_result").count()
    assert _written(outcomes) == 4 + 4 + 1
    _as_pushed(outcomes, entries)
