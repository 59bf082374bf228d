"""A worker killed mid-job leaves nothing running or locked: when a worker starts (and by the periodic
check) the job ends as interrupted, its nodes in flight are marked so, owe a restart and are re-read by a
drift check, its locks are freed, and "Re-run unfinished nodes" pushes exactly the rest. Fast tier:
heartbeat rows written here stand for workers (tests/pushes/test_worker_kill.py kills a real one)."""

from __future__ import annotations

import os
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from regui.celery import app
from regui.core.models import WorkerBeat
from regui.inventory.models import Node
from regui.pushes import services
from regui.pushes.files import cluster_files
from regui.pushes.models import PushJob
from regui.pushes.recovery import Beat, ChunkState, Here, jobs_recover, lost_chunks
from regui.pushes.rolling import files_digest
from regui.registries.importing import registries_import
from regui.registries.selectors import cluster_sync_key

pytestmark = pytest.mark.django_db(transaction=True)
TASK = "regui.push_job_run"
GONE = "celery@elsewhere pid 4242"
NOW = timezone.now()


def beat(name: str, *tasks: list, age: float = 1) -> WorkerBeat:
    return WorkerBeat.objects.create(name=name, broker="redis://x", queues=["celery"], started_at=NOW - timedelta(hours=1),
                                     seen_at=timezone.now() - timedelta(seconds=age), tasks=list(tasks))


def running_job(fleet, monkeypatch, worker: str = GONE, age: float = 60, in_flight=("a1", "a2")) -> PushJob:
    """A job as a worker left it: its first chunk running on `worker` since `age` seconds, nodes locked."""
    monkeypatch.setattr(services, "celery_send", lambda job_id, chunks: None)
    app.conf.task_always_eager = False
    try:
        job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, nodes=fleet.nodes,
                                       policy=services.effective_policy(fleet.cluster, {"agents_at_once": "2"}))
    finally:
        app.conf.task_always_eager = True
    then = timezone.now() - timedelta(seconds=age)
    PushJob.objects.filter(pk=job.pk).update(status="running", started_at=then)
    job.chunks.filter(index=0).update(status="running", worker=worker, started_at=then)
    job.results.filter(node_name__in=in_flight).update(status="running", started_at=then)
    Node.objects.filter(name__in=in_flight).update(lock_job=job.pk, lock_at=then)
    job.refresh_from_db()
    return job


@pytest.fixture
def three(fleet):
    WorkerBeat.objects.all().delete()
    fleet.add("agent", "agent", "agent")
    return fleet


def test_a_job_whose_worker_stopped_checking_in_ends_as_interrupted_with_its_nodes_freed_and_re_read(
        three, monkeypatch):
    fleet = three
    job = running_job(fleet, monkeypatch)
    beat(GONE, ["active", TASK, [job.pk, 0]], age=45)
    assert jobs_recover() == [job.pk]
    job.refresh_from_db()
    assert job.status == "interrupted" and job.finished_at
    assert job.message.startswith(f"Interrupted: the worker that ran it ({GONE}) has not checked in since")
    res = fleet.results(job)
    for name in ("a1", "a2"):
        assert res[name].status == "interrupted"
        assert res[name].message.startswith("interrupted while being pushed: whether its file was written")
    assert (res["a3"].status, res["a3"].message) == ("interrupted", "interrupted: not pushed")
    nodes = {n.name: n for n in Node.objects.all()}
    assert all(n.lock_job is None for n in nodes.values())
    assert nodes["a1"].restart_pending and not nodes["a3"].restart_pending, "in flight: the restart is owed"
    assert set(job.chunks.values_list("status", flat=True)) == {"interrupted"}
    (check,) = job.followups.all()
    assert check.kind == "drift" and check.status == "done" and sorted(r.node_name for r in check.results.all()) == ["a1", "a2"]
    assert nodes["a1"].sync_state == "drifted", "the re-read says what the node really has (nothing pushed yet)"
    assert jobs_recover() == [], "once is enough"


def test_a_chunk_a_live_worker_still_runs_is_left_alone(three, monkeypatch):
    job = running_job(three, monkeypatch, worker="celery@here pid 7")
    beat("celery@here pid 7", ["active", TASK, [job.pk, 0]])
    assert jobs_recover() == [] and PushJob.objects.get(pk=job.pk).status == "running"


def test_a_worker_restarted_under_its_own_name_ends_its_predecessors_jobs_at_once(three, monkeypatch):
    job = running_job(three, monkeypatch, worker="celery@here pid 7", age=2)  # younger than REGUI_WORKER_WAIT
    beat("celery@here pid 7", ["active", TASK, [job.pk, 0]], age=2)  # the dead one's last beat
    assert jobs_recover(Here("celery@here pid 7", timezone.now())) == [job.pk]
    assert "(celery@here pid 7) was restarted" in PushJob.objects.get(pk=job.pk).message


def test_the_worker_start_hook_checks_as_that_worker(three, monkeypatch):
    from regui.core.heartbeat import worker_name
    from regui.pushes.signals import _recover_on_start

    job = running_job(three, monkeypatch, worker=worker_name("celery@here", os.getpid()), age=2)
    monkeypatch.setattr("regui.pushes.signals.PROCESS_STARTED", timezone.now())
    monkeypatch.setattr("regui.pushes.signals.run_later", lambda seconds, check: None)  # no timer left behind
    _recover_on_start(SimpleNamespace(hostname="celery@here"))
    assert PushJob.objects.get(pk=job.pk).status == "interrupted"


def test_re_run_unfinished_nodes_pushes_exactly_those_and_a_node_already_at_the_target_reports_unchanged(
        three, monkeypatch):
    fleet = three
    fleet.push()  # every node has the first file
    registries_import(cluster=fleet.cluster, replace=True, text=(
        'mirrors:\n  docker.io:\n    endpoint: ["https://mirror-2.example.com:5000"]\n'))
    fleet.push(nodes=[fleet.nodes[0]], restart=False)  # a1 got the new file, but not its restart, when...
    job = running_job(fleet, monkeypatch)  # ...the worker was killed
    beat(GONE, age=45)
    jobs_recover()
    client = Client()
    client.force_login(fleet.user)
    text = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Re-run unfinished nodes (3)" in text and "Re-read: <a" in text
    response = client.post(f"/clusters/{fleet.cluster.name}/push/", {"scope": "rerun", "job": job.pk})
    rerun = PushJob.objects.exclude(pk=job.pk).filter(kind="push").latest("pk")
    assert response.url == f"/jobs/{rerun.pk}/" and rerun.origin == job and rerun.policy == job.policy
    res = fleet.results(rerun)
    assert sorted(res) == ["a1", "a2", "a3"]
    assert (res["a1"].status, res["a1"].restarted) == ("unchanged", True), "at the target: only the owed restart"
    assert res["a2"].status == res["a3"].status == "changed"
    assert not Node.objects.filter(restart_pending=True).exists()


def _killed_mid_write(fleet, monkeypatch) -> PushJob:
    """A push of a new file killed after writing it on a1 (its result and key not recorded yet) and before
    a2: the job's chunk had recorded its files' digest, as a started chunk does."""
    fleet.push()
    before = Node.objects.values_list("last_sha256", "last_sync_key").get(name="a1")
    registries_import(cluster=fleet.cluster, replace=True, text=(
        'mirrors:\n  docker.io:\n    endpoint: ["https://mirror-2.example.com:5000"]\n'))
    fleet.push(nodes=[fleet.nodes[0]], restart=False)  # a1's file written...
    Node.objects.filter(name="a1").update(last_sha256=before[0], last_sync_key=before[1])  # ...not recorded
    job = running_job(fleet, monkeypatch)
    PushJob.objects.filter(pk=job.pk).update(files_digest=files_digest(cluster_files(fleet.cluster)))
    beat(GONE, age=45)
    return job


def test_the_re_read_after_a_kill_finds_a_node_the_push_had_written_in_sync_and_its_re_run_unchanged(
        three, monkeypatch):
    fleet = three
    job = _killed_mid_write(fleet, monkeypatch)
    assert jobs_recover() == [job.pk]
    (check,) = job.followups.all()
    res = fleet.results(check)
    assert res["a1"].status == "in_sync" and "the interrupted push was writing" in res["a1"].message
    assert res["a2"].status == "out_of_date", "not written: still the older file regui wrote"
    key = cluster_sync_key(fleet.cluster)
    assert Node.objects.get(name="a1").last_sync_key == key != Node.objects.get(name="a2").last_sync_key
    rerun = services.push_job_rerun(PushJob.objects.get(pk=job.pk))
    res = fleet.results(rerun)
    assert (res["a1"].status, res["a1"].restarted) == ("unchanged", True), "only the owed restart"
    assert res["a2"].status == "changed"


def test_a_re_read_adopts_nothing_when_the_cluster_changed_after_the_interrupted_push(three, monkeypatch):
    fleet = three
    job = _killed_mid_write(fleet, monkeypatch)
    PushJob.objects.filter(pk=job.pk).update(files_digest="0" * 64)  # another render than the re-read's
    jobs_recover()
    (check,) = job.followups.all()
    assert fleet.results(check)["a1"].status == "drifted"
    assert Node.objects.get(name="a1").last_sync_key != cluster_sync_key(fleet.cluster)


def test_re_run_takes_skipped_nodes_too_and_none_that_finished(fleet):
    fleet.add("agent", "agent", "agent")
    fleet["a1"].set_systemctl(restart_fails=True)
    job = fleet.push(agents_at_once="1", max_failures=1)
    rerun = services.push_job_rerun(job)
    assert sorted(r.node_name for r in rerun.results.all()) == ["a2", "a3"]


def test_a_running_job_with_nothing_left_queued_or_running_is_interrupted(three, monkeypatch):
    job = running_job(three, monkeypatch, in_flight=())
    job.chunks.update(status="done")
    assert jobs_recover() == [job.pk]
    assert "no part of it is queued or running any more" in PushJob.objects.get(pk=job.pk).message


def test_the_periodic_check_runs_from_celery_beat(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["regui.push_jobs_recover"] <= 60


# Pure: which chunks are lost, from chunk states and heartbeat rows.

def chunk(status="running", worker=GONE, age=60.0, job=1, index=0) -> ChunkState:
    return ChunkState(job, index, status, worker, NOW - timedelta(seconds=age))


def row(name=GONE, age=1.0, *tasks) -> Beat:
    return Beat(name, NOW - timedelta(seconds=age), list(tasks))


def lost(chunks, beats, here=None, alive=lambda pid: True):
    return lost_chunks(chunks, beats, now=NOW, wait=30, here=here, alive=alive)


def test_a_chunk_its_live_worker_lists_is_not_lost():
    assert lost([chunk()], [row(GONE, 1, ["active", TASK, [1, 0]])]) == {}


def test_a_chunk_started_moments_ago_is_not_lost_before_its_worker_could_report_it():
    assert lost([chunk(age=3)], []) == {}


def test_a_running_chunk_no_live_worker_lists_is_lost_after_the_wait():
    assert "no worker runs it any more" in lost([chunk(worker="")], [])[(1, 0)]


def test_a_worker_process_that_exited_on_this_machine_is_gone_at_once():
    here = Here("celery@host pid 1", NOW - timedelta(seconds=5))
    found = lost([chunk(worker="celery@host pid 999", age=2)], [row("celery@host pid 999", 1, ["active", TASK, [1, 0]])],
                 here=here, alive=lambda pid: pid != 999)
    assert found == {(1, 0): "the worker that ran it (celery@host pid 999) has exited"}
    assert lost([chunk(worker="celery@other pid 999", age=2)], [], here=here, alive=lambda pid: False) == {}, \
        "another machine's pid says nothing here"


def test_a_queued_chunk_a_dead_worker_had_taken_is_lost_and_one_nobody_took_waits():
    dead = row(GONE, 90, ["reserved", TASK, [1, 1]])
    assert "stopped before running it" in lost([chunk("queued", "", index=1)], [dead])[(1, 1)]
    assert lost([chunk("queued", "", index=1)], []) == {}


def test_a_job_queued_by_an_older_version_is_recognised_by_its_job_id_alone():
    assert lost([chunk()], [row(GONE, 1, ["active", TASK, [1]])]) == {}


def test_a_chunk_its_task_continued_into_is_held_by_that_task():
    assert lost([chunk(index=3)], [row(GONE, 1, ["active", TASK, [1, 0]])]) == {}
    assert "no worker runs it" in lost([chunk(index=3)], [row("celery@other pid 1", 1, ["active", TASK, [1, 0]])])[(1, 3)]


def test_push_to_failed_nodes_takes_the_nodes_an_interruption_left(three, monkeypatch):
    from regui.pushes.selectors import failed_nodes

    job = running_job(three, monkeypatch, in_flight=("a1",))
    beat(GONE, age=45)
    jobs_recover()
    assert PushJob.objects.get(pk=job.pk).status == "interrupted"
    # a1's last result is the re-read (drifted), a2 and a3 were never reached
    assert sorted(n.name for n in failed_nodes(three.cluster)) == ["a2", "a3"]


def test_nodes_a_live_worker_still_pushes_for_an_interrupted_job_are_not_re_run(three, monkeypatch, settings):
    settings.REGUI_PUSH_CHUNK = 2  # a1 and a2 in chunk 0 (its worker killed), a3 in chunk 1 (live)
    job = running_job(three, monkeypatch, in_flight=("a1", "a2", "a3"))
    job.chunks.filter(index=1).update(status="running", worker="celery@live pid 7",
                                      started_at=timezone.now() - timedelta(seconds=60))
    assert sorted(job.results.values_list("chunk", flat=True)) == [0, 0, 1]
    beat(GONE, age=45)
    beat("celery@live pid 7", ["active", TASK, [job.pk, 1]])
    assert jobs_recover() == [job.pk]
    res = three.results(job)
    assert res["a3"].status == "running" and Node.objects.get(name="a3").lock_job == job.pk, "its worker lives"
    client = Client()
    client.force_login(three.user)
    assert "Re-run unfinished nodes (2)" in client.get(f"/jobs/{job.pk}/").content.decode()
    assert "hx-trigger" in client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode(), "a3 will end"
    rerun = services.push_job_rerun(job)
    assert sorted(r.node_name for r in rerun.results.all()) == ["a1", "a2"]


def test_a_chunk_whose_job_ended_just_before_its_nodes_started_pushes_none_of_them(three, monkeypatch):
    from regui.pushes import rolling
    from regui.pushes.outcomes import job_interrupt

    real = rolling._single_next

    def interrupted_meanwhile(job, chunk, results):  # by the recovery, once the render was checked
        job_interrupt(PushJob.objects.get(pk=job.pk), [], "Interrupted: another chunk's worker stopped.")
        return real(job, chunk, results)

    monkeypatch.setattr(rolling, "_single_next", interrupted_meanwhile)
    job = three.push(agents_at_once="100%")
    assert job.status == "interrupted"
    assert {r.status for r in job.results.all()} == {"interrupted"}
    assert all(three[name].execs == [] for name in ("a1", "a2", "a3")), "no command for a job that ended"
    assert not Node.objects.filter(lock_job=job.pk).exists()


def test_a_re_read_interrupted_before_it_read_its_nodes_is_made_again_for_them(three, monkeypatch):
    job = running_job(three, monkeypatch, in_flight=("a1",))
    beat(GONE, age=45)
    app.conf.task_always_eager = False  # the re-read only queued, as for a worker...
    try:
        jobs_recover()
    finally:
        app.conf.task_always_eager = True
    (reread,) = job.followups.all()
    then = timezone.now() - timedelta(seconds=60)  # ...which took it and was killed before reading a1
    PushJob.objects.filter(pk=reread.pk).update(status="running", started_at=then)
    reread.chunks.update(status="running", worker=GONE, started_at=then)
    assert jobs_recover() == [reread.pk]
    (again,) = PushJob.objects.filter(origin=reread)
    assert again.kind == "drift" and again.status == "done"
    assert [r.node_name for r in again.results.all()] == ["a1"]
    assert Node.objects.get(name="a1").sync_state == "drifted", "what a1 really has is known after all"


def test_a_node_locked_by_a_killed_chunk_before_its_result_said_running_is_freed_too(three, monkeypatch):
    job = running_job(three, monkeypatch, in_flight=("a1",))
    Node.objects.filter(name="a2").update(lock_job=job.pk, lock_at=timezone.now())  # killed between the two
    beat(GONE, age=45)
    assert jobs_recover() == [job.pk]
    assert not Node.objects.filter(lock_job=job.pk).exists()
    assert not Node.objects.get(name="a2").restart_pending, "not reached: nothing written, no restart owed"


def test_after_the_database_was_away_a_worker_s_silence_counts_only_once_the_checker_s_own_heartbeat_is_written():
    here, other = Here("celery@here pid 7", NOW - timedelta(hours=1)), "celery@other pid 8"
    running = row(other, 45, ["active", TASK, [1, 0]])  # its last beat, before the database went away
    assert lost([chunk(worker=other)], [running, row("celery@here pid 7", 45)], here=here) == {}, "as silent"
    assert "has not checked in" in lost([chunk(worker=other)], [running, row("celery@here pid 7", 1)], here=here)[(1, 0)]
