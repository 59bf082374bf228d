"""In-process (fake nodes): a push job writes exactly the revision it was confirmed for. A save of the
registries after the job was queued (or between its chunks, or during a chunk's render) makes the
chunks that would render the new revision write nothing, and the job ends failed saying so; no job
writes two different files. A drift check still compares the nodes with the revision stored now."""

from __future__ import annotations

import hashlib

import pytest

from regui.audit.models import Revision
from regui.pushes import rolling, services
from regui.pushes.models import PushJob
from regui.registries.importing import registries_import

pytestmark = pytest.mark.django_db(transaction=True)
NEW = 'mirrors:\n  docker.io:\n    endpoint: ["https://other.example.com"]\n'


def words(was: int, now: int) -> str:
    return (f"the registries changed since this push was confirmed (revision {was} → {now}): nothing written; "
            "push the new revision through the confirmation")


def save_new_registries(fleet) -> int:
    registries_import(cluster=fleet.cluster, replace=True, text=NEW)
    fleet.cluster.refresh_from_db()
    return fleet.cluster.revision


def written(fleet, name: str) -> bytes | None:
    return fleet[name].read(fleet.cluster.registries_path)


def test_a_job_writes_the_file_of_the_revision_it_was_confirmed_for(fleet):
    fleet.add("server", "agent")
    job = fleet.push()
    assert job.status == "done" and job.revision == fleet.cluster.revision
    confirmed = Revision.objects.get(cluster=fleet.cluster, number=job.revision)
    for name in ("s1", "a1"):
        assert hashlib.sha256(written(fleet, name) or b"").hexdigest() == confirmed.sha256 == job.sha256


def test_a_job_queued_before_a_save_writes_nothing_and_ends_failed_saying_which_revisions(fleet, fake_ssh, queued):
    _, run = queued
    fleet.add("server", "agent", "agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user)
    was = job.revision
    now = save_new_registries(fleet)
    assert now != was
    job = run(job, 0)
    assert job.status == "failed" and job.revision == was
    assert words(was, now) in job.message
    for result in job.results.all():
        assert result.status == "skipped" and words(was, now) in result.message
    assert fake_ssh.execs() == [] and all(written(fleet, n) is None for n in ("s1", "a1", "a2"))
    assert not job.chunks.filter(status__in=["queued", "running"]).exists()


def test_chunks_of_one_job_that_straddle_a_save_never_write_two_different_files(fleet, queued, settings):
    settings.REGUI_PUSH_CHUNK = 1
    sent, run = queued
    fleet.add("server", "agent", "agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user,
                                   policy=services.effective_policy(fleet.cluster, {"agents_at_once": "2"}))
    was = job.revision
    run(job, 0)  # the server's step, before the save
    assert sent == [0, 1, 2], "the agents' step: two chunks, for any worker"
    now = save_new_registries(fleet)
    for chunk in (1, 2):
        job = run(job, chunk)
    res = fleet.results(job)
    assert res["s1"].status == "changed" and job.status == "failed" and words(was, now) in job.message
    for agent in ("a1", "a2"):
        assert res[agent].status == "skipped" and words(was, now) in res[agent].message
        assert fleet[agent].connects == [] and written(fleet, agent) is None
    confirmed = Revision.objects.get(cluster=fleet.cluster, number=was)
    assert hashlib.sha256(written(fleet, "s1") or b"").hexdigest() == confirmed.sha256


def test_a_save_committed_while_a_chunk_renders_is_caught_before_anything_is_written(fleet, fake_ssh, queued,
                                                                                     monkeypatch):
    _, run = queued
    fleet.add("agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user)
    real = rolling.cluster_files
    saved: list[int] = []

    def render_then_save(cluster, **kwargs):
        files = real(cluster, **kwargs)  # the confirmed revision's file...
        saved.append(save_new_registries(fleet))  # ...and a save lands before the chunk writes it
        return files

    monkeypatch.setattr(rolling, "cluster_files", render_then_save)
    job = run(job, 0)
    assert job.status == "failed" and words(job.revision, saved[0]) in job.message
    assert fake_ssh.execs() == [] and written(fleet, "a1") is None


def test_a_drift_check_queued_before_a_save_compares_with_the_revision_stored_now(fleet, queued):
    _, run = queued
    fleet.add("agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, kind=PushJob.Kind.DRIFT)
    now = save_new_registries(fleet)
    job = run(job, 0)
    assert job.status == "done" and job.revision == now
    assert fleet.results(job)["a1"].status != "skipped"
