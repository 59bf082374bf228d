"""In-process (fake nodes): a job split into chunks (tasks any worker may take) that meets an error in
one chunk ends failed with the reason, once: the other chunks of its step finish their nodes, nothing
stays queued or running, no node stays locked, the nodes not reached are skipped, and the job page
stops polling."""

from __future__ import annotations

import threading

import pytest
from django.test import Client

from regui.audit.models import AuditEvent
from regui.inventory.models import Node
from regui.pushes import rolling
from regui.pushes.models import PushChunk

pytestmark = pytest.mark.django_db(transaction=True)


def fail_chunk(monkeypatch, index: int, error: Exception, after: int | None = None) -> None:
    """Chunk `index` fails with `error`; with `after`, only once that chunk's nodes are done (the
    step's chunks run in threads: which gets there first is otherwise the scheduler's choice)."""
    real = rolling._run_nodes
    done = threading.Event()

    def run(job, chunk, results, *args, **kwargs):
        if chunk == index:
            assert after is None or done.wait(30), f"chunk {after} never finished"
            type(results[0].node).objects.filter(pk__in=[r.node_id for r in results]).update(lock_job=job.pk)
            job.results.filter(chunk=chunk).update(status="running")
            raise error
        try:
            return real(job, chunk, results, *args, **kwargs)
        finally:
            if chunk == after:
                done.set()

    monkeypatch.setattr(rolling, "_run_nodes", run)


def test_an_error_in_one_chunk_of_a_step_fails_the_job_once_and_the_other_chunks_finish(fleet, monkeypatch, settings):
    settings.REGUI_PUSH_CHUNK = 2
    fleet.add("server", *["agent"] * 6)
    fail_chunk(monkeypatch, 2, RuntimeError("the key ring is locked"), after=1)
    job = fleet.push(agents_at_once="4")  # s1; then a1-a4 as chunks 1 (a1, a2) and 2 (a3, a4); then a5, a6
    assert job.status == "failed" and job.finished_at
    assert job.message == "The push failed: RuntimeError: the key ring is locked. See the worker log."
    res = fleet.results(job)
    assert res["s1"].status == res["a1"].status == res["a2"].status == "changed", "the other chunk finished"
    for name in ("a3", "a4"):
        assert res[name].status == "failed" and "the key ring is locked" in res[name].message
    for name in ("a5", "a6"):
        assert res[name].status == "skipped" and res[name].message.startswith("not pushed: the push failed")
        assert fleet[name].connects == []
    assert set(job.chunks.values_list("status", flat=True)) <= {"done", "interrupted"}
    assert not PushChunk.objects.filter(status__in=["queued", "running"]).exists()
    assert not Node.objects.filter(lock_job__isnull=False).exists()
    client = Client()
    client.force_login(fleet.user)
    text = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in text and "the key ring is locked" in text
    ends = AuditEvent.objects.filter(action="push", object_id=str(job.pk), changes__status__1="failed")
    assert ends.count() == 1, "ended once"


def test_errors_in_two_chunks_at_once_end_the_job_once_with_one_reason(fleet, monkeypatch, settings):
    settings.REGUI_PUSH_CHUNK = 1
    fleet.add("agent", "agent")

    def run(job, chunk, results, *args, **kwargs):
        raise RuntimeError(f"broken in chunk {chunk}")

    monkeypatch.setattr(rolling, "_run_nodes", run)
    job = fleet.push(agents_at_once="100%")
    assert job.status == "failed" and job.message in {
        f"The push failed: RuntimeError: broken in chunk {i}. See the worker log." for i in (0, 1)}
    assert {r.status for r in job.results.all()} == {"skipped"}
    assert not PushChunk.objects.filter(status__in=["queued", "running"]).exists()
    assert AuditEvent.objects.filter(action="push", object_id=str(job.pk), changes__status__1="failed").count() == 1
