"""The database away for a moment in the middle of a job (a PostgreSQL restart, SQLite's write lock
held too long): what the nodes did is still written once it is back, so no result stays "running" and
no node stays locked by a job that ended."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from regui.inventory.models import Node
from regui.pushes import sink

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_result_write_that_fails_while_the_database_is_away_is_written_once_it_is_back(fleet, monkeypatch):
    fleet.add("agent", "agent")
    real, failures = sink.outcomes_write, [2]  # the batch's write and its one-by-one retry

    def away_for_a_moment(outcomes):
        if failures[0]:
            failures[0] -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return real(outcomes)

    monkeypatch.setattr(sink, "outcomes_write", away_for_a_moment)
    monkeypatch.setattr(sink, "RETRY_SECONDS", 0.01)
    job = fleet.push(agents_at_once="2")
    assert failures == [0]
    assert job.status == "done"
    assert {r.status for r in job.results.all()} == {"changed"}
    assert not Node.objects.filter(lock_job=job.pk).exists()
    assert set(Node.objects.values_list("sync_state", flat=True)) == {"in_sync"}


def test_a_result_write_that_keeps_failing_ends_the_job_failed_and_frees_the_node(fleet, monkeypatch):
    fleet.add("agent")

    def away(outcomes):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(sink, "outcomes_write", away)
    monkeypatch.setattr(sink, "RETRY_SECONDS", 0.01)
    job = fleet.push()
    assert job.status == "failed" and "OperationalError: server closed the connection" in job.message
    result = job.results.get()
    assert result.status == "failed" and "is not known" in result.message
    assert not Node.objects.filter(lock_job=job.pk).exists()


def test_a_database_connection_dropped_during_the_pause_between_batches_does_not_fail_the_push(
        fleet, monkeypatch):
    from regui.pushes import steps
    from regui.pushes.models import PushJob

    fleet.add("agent", "agent")
    real, drops = PushJob.refresh_from_db, [2]  # the connection dropped, then the database away a second

    def dropped(job, *args, **kwargs):
        if kwargs.get("fields") == ["paused_until", "status"] and job.paused_until and drops[0]:
            drops[0] -= 1
            raise OperationalError("terminating connection due to administrator command")
        return real(job, *args, **kwargs)

    monkeypatch.setattr(PushJob, "refresh_from_db", dropped)
    monkeypatch.setattr(steps, "RETRY_SECONDS", 0.01)
    job = fleet.push(agents_at_once="1", pause_seconds="1")
    assert drops == [0]
    assert (job.status, job.message) == ("done", "")
    assert {r.status for r in job.results.all()} == {"changed"}
