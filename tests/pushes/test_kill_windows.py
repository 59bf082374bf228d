"""The moments a worker killed mid-job (`kill -9`) is hardest to notice, each ended as soon as it can be
without ever interrupting what a live worker still runs: a task it had just received (not yet in its
heartbeat row), the moment after it sent a job's next step, and the first seconds after the database
was away. Fast tier: heartbeat rows written here stand for workers (tests/pushes/test_worker_kill.py
and test_lost_tasks_real.py kill real ones)."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from regui.celery import app
from regui.core import heartbeat
from regui.core.heartbeat import Heart, this_site_broker
from regui.core.models import WorkerBeat
from regui.inventory.models import Node
from regui.pushes import services
from regui.pushes.models import PushJob
from regui.pushes.recovery import Here, jobs_recover

pytestmark = pytest.mark.django_db(transaction=True)
TASK = "regui.push_job_run"


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def three(fleet):
    WorkerBeat.objects.all().delete()
    fleet.add("agent", "agent", "agent")
    return fleet


def killed_running(fleet, monkeypatch, worker: str, in_flight=("a1",)) -> PushJob:
    """A job whose first chunk `worker` ran a minute ago, `in_flight` locked, its nodes' re-read not run."""
    monkeypatch.setattr(services, "celery_send", lambda job_id, chunks: None)
    app.conf.task_always_eager = False
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, nodes=fleet.nodes)
    then = timezone.now() - timedelta(seconds=60)
    PushJob.objects.filter(pk=job.pk).update(status="running", started_at=then)
    job.chunks.update(status="running", worker=worker, started_at=then)
    job.results.filter(node_name__in=in_flight).update(status="running", started_at=then)
    Node.objects.filter(name__in=in_flight).update(lock_job=job.pk, lock_at=then)
    return job


# A task just received.

def test_a_heartbeat_lists_a_task_the_moment_it_is_received_not_a_beat_later(monkeypatch):
    heart = Heart("celery@here pid 1", this_site_broker(), ["celery"], every=60)
    beats = []
    monkeypatch.setattr(heart, "beat", lambda: beats.append(1))
    monkeypatch.setattr(heart, "prune", lambda: None)
    heart.start()
    try:
        for _ in range(100):
            if beats:
                break
            threading.Event().wait(0.01)
        monkeypatch.setattr(heartbeat, "_heart", heart)
        from celery.signals import task_received

        task_received.send(sender=None, request=SimpleNamespace(name="regui.other", args=[]))
        threading.Event().wait(0.2)
        assert len(beats) == 1, "a task not asked for waits for the next beat"
        task_received.send(sender=None, request=SimpleNamespace(name=TASK, args=[7, 0]))
        for _ in range(100):
            if len(beats) == 2:
                break
            threading.Event().wait(0.01)
        assert len(beats) == 2, "the next beat at once, not after 60 s"
    finally:
        heart.stopping.set()
        heart.wake.set()
        heart.join(5)


def test_a_task_received_but_not_yet_booked_by_celery_is_listed_as_reserved(transactional_db):
    heart = Heart("celery@here pid 1", this_site_broker(), ["celery"], every=60)
    heart.heard(SimpleNamespace(name=TASK, args=[7, 0]))
    heart.beat()
    assert WorkerBeat.objects.get(name="celery@here pid 1").tasks == [["reserved", TASK, [7, 0]]]
    heart.beat()
    assert WorkerBeat.objects.get(name="celery@here pid 1").tasks == [], "once booked, Celery's state says"
    heart.heard(SimpleNamespace(name=TASK, args=[7, 0], acknowledged=True))
    heart.beat()
    assert WorkerBeat.objects.get(name="celery@here pid 1").tasks == [], "acknowledged: started, or ended"


def test_a_re_read_a_worker_received_just_before_it_was_killed_ends_at_the_next_worker_start(three, monkeypatch):
    """A worker starts, interrupts a killed worker's job, queues its re-read, receives the re-read's
    task and is killed in turn, before any later beat: the next worker to start makes the re-read again."""
    host = "celery@host"
    first, second = f"{host} pid {dead_pid()}", f"{host} pid {dead_pid()}"
    job = killed_running(three, monkeypatch, first)
    assert jobs_recover(Here(second, timezone.now() - timedelta(seconds=1))) == [job.pk]
    (reread,) = job.followups.all()
    assert reread.status == "queued"
    heart = Heart(second, this_site_broker(), ["celery"], every=60)
    heart.beat()  # its first beat, at its start: nothing held yet
    heart.heard(SimpleNamespace(name=TASK, args=[reread.pk, 0]))
    heart.beat()  # woken by the task's arrival; then the kill
    app.conf.task_always_eager = True
    third = Here(f"{host} pid {dead_pid()}", timezone.now())
    assert jobs_recover(third) == [reread.pk]
    reread.refresh_from_db()
    assert reread.status == "interrupted" and f"({second}) stopped before running it" in reread.message
    (again,) = PushJob.objects.filter(origin=reread)
    assert again.status == "done" and [r.node_name for r in again.results.all()] == ["a1"]


# Just after a job's next step was sent.

class Killed(BaseException):
    """kill -9: nothing after it runs, no handler sees it."""


@pytest.fixture
def four(fleet, settings):
    WorkerBeat.objects.all().delete()
    settings.REGUI_PUSH_CHUNK = 1  # two batches of two agents: chunks 0, 1, then 2, 3
    fleet.add("agent", "agent", "agent", "agent")
    return fleet


def two_batches(fleet, queued) -> PushJob:
    sent, _ = queued
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user,
                                   policy=services.effective_policy(fleet.cluster, {"agents_at_once": "2"}))
    assert sent == [0, 1]
    sent.clear()
    return job


def killed_after(sent: list[int]):
    def send(job_id: int, chunks: list[int]) -> None:
        sent.extend(chunks)
        raise Killed

    return send


def test_a_worker_killed_just_after_it_sent_the_next_step_leaves_the_job_going_on_from_the_next_start(
        four, queued):
    from regui.pushes import rolling

    sent, run = queued
    job = two_batches(four, queued)
    killed = f"celery@host pid {dead_pid()}"
    rolling.push_job_run(job.pk, 0, send=sent.extend, worker=killed)
    with pytest.raises(Killed):
        rolling.push_job_run(job.pk, 1, send=killed_after(sent), worker=killed)
    assert sent == [2, 3] and dict(job.chunks.values_list("index", "status")) == {
        0: "done", 1: "running", 2: "queued", 3: "queued"}, "as the kill left it"
    sent.clear()
    assert jobs_recover(Here("celery@host pid 1", timezone.now())) == [], "nothing of it is lost"
    job.refresh_from_db()
    assert job.status == "running" and job.chunks.get(index=1).status == "done"
    assert sent == [2, 3], "sent again, in case the kill came before they were: each runs once"
    for chunk in (2, 3, 2, 3):  # the first task of each, then the one sent again, which does nothing
        run(job, chunk)
    job.refresh_from_db()
    assert job.status == "done" and {r.status for r in job.results.all()} == {"changed"}
    assert all(len(four[n].restarts()) == 1 for n in ("a3", "a4")), "pushed once"


def test_a_next_step_a_live_worker_already_runs_is_not_interrupted_by_the_loss_of_the_chunk_that_sent_it(
        four, queued):
    from regui.pushes import rolling

    sent, _ = queued
    job = two_batches(four, queued)
    away, live = "celery@elsewhere pid 4242", "celery@live pid 7"
    rolling.push_job_run(job.pk, 0, send=sent.extend, worker=away)
    with pytest.raises(Killed):
        rolling.push_job_run(job.pk, 1, send=killed_after(sent), worker=away)
    then = timezone.now() - timedelta(seconds=60)
    job.chunks.filter(index=1).update(started_at=then)
    job.chunks.filter(index=2).update(status="running", worker=live, started_at=then)
    WorkerBeat.objects.create(name=away, broker=this_site_broker(), queues=["celery"], started_at=then,
                              seen_at=then, tasks=[["active", TASK, [job.pk, 0]]])
    WorkerBeat.objects.create(name=live, broker=this_site_broker(), queues=["celery"], started_at=then,
                              seen_at=timezone.now(), tasks=[["active", TASK, [job.pk, 2]]])
    sent.clear()
    assert jobs_recover() == []
    assert PushJob.objects.get(pk=job.pk).status == "running"
    assert dict(job.chunks.values_list("index", "status")) == {0: "done", 1: "done", 2: "running", 3: "queued"}
    assert sent == [3]


def test_a_chunk_killed_after_its_own_nodes_while_another_of_its_step_runs_ends_alone(four, queued):
    from regui.pushes import rolling

    sent, _ = queued
    job = two_batches(four, queued)
    away, live = "celery@elsewhere pid 4242", "celery@live pid 7"
    rolling.push_job_run(job.pk, 1, send=sent.extend, worker=away)  # a2 pushed; then killed before it ended
    then = timezone.now() - timedelta(seconds=60)
    job.chunks.filter(index=1).update(status="running", worker=away, started_at=then, finished_at=None)
    job.chunks.filter(index=0).update(status="running", worker=live, started_at=then)
    WorkerBeat.objects.create(name=live, broker=this_site_broker(), queues=["celery"], started_at=then,
                              seen_at=timezone.now(), tasks=[["active", TASK, [job.pk, 0]]])
    assert jobs_recover() == [] and PushJob.objects.get(pk=job.pk).status == "running"
    assert job.chunks.get(index=1).status == "done" and sent == []


def test_a_worker_killed_in_the_pause_before_the_next_step_was_queued_still_interrupts_the_job(
        four, queued, monkeypatch):
    from regui.pushes import rolling

    sent, _ = queued
    job = two_batches(four, queued)
    killed = f"celery@host pid {dead_pid()}"

    def killed_in_the_pause(*args, **kwargs):
        raise Killed

    rolling.push_job_run(job.pk, 0, send=sent.extend, worker=killed)
    monkeypatch.setattr(rolling, "_next_step", killed_in_the_pause)
    with pytest.raises(Killed):
        rolling.push_job_run(job.pk, 1, send=sent.extend, worker=killed)
    assert jobs_recover(Here("celery@host pid 1", timezone.now())) == [job.pk]
    res = four.results(PushJob.objects.get(pk=job.pk))
    assert res["a3"].message == res["a4"].message == "interrupted: not pushed" and sent == []


# The first seconds after the database was away.

def own_row(name: str, seen: float, back: float | None) -> WorkerBeat:
    now = timezone.now()
    return WorkerBeat.objects.create(name=name, broker=this_site_broker(), queues=["celery"],
                                     started_at=now - timedelta(hours=1), seen_at=now - timedelta(seconds=seen),
                                     back_at=None if back is None else now - timedelta(seconds=back))


def test_a_heartbeat_written_again_after_failing_says_since_when(transactional_db, monkeypatch):
    from django.db import OperationalError

    heart = Heart("celery@here pid 1", this_site_broker(), ["celery"], every=60)
    heart.beat()
    assert WorkerBeat.objects.get().back_at is None, "never failed"

    def away(**kwargs):
        raise OperationalError("the database is away")

    monkeypatch.setattr(WorkerBeat.objects, "update_or_create", away)
    heart.beat()
    monkeypatch.undo()
    before = timezone.now()
    heart.beat()
    heart.beat()
    row = WorkerBeat.objects.get()
    assert row.back_at is not None and before <= row.back_at < row.seen_at, "when it came back, kept"


def test_a_heartbeat_failing_for_a_moment_does_not_say_it_came_back(transactional_db, monkeypatch):
    from django.db import OperationalError

    heart = Heart("celery@here pid 1", this_site_broker(), ["celery"], every=5, wait=30)
    heart.beat()

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(WorkerBeat.objects, "update_or_create", locked)
    heart.beat()
    monkeypatch.undo()
    heart.beat()
    assert WorkerBeat.objects.get().back_at is None, "no other worker's row went stale meanwhile"


def test_a_live_worker_silent_since_the_database_was_away_keeps_its_job_until_it_had_the_whole_wait_to_write(
        three, monkeypatch):
    here, other = Here("celery@here pid 7", timezone.now() - timedelta(hours=1)), "celery@other pid 8"
    job = killed_running(three, monkeypatch, other)
    then = timezone.now() - timedelta(seconds=45)  # its last beat, before the database went away
    WorkerBeat.objects.create(name=other, broker=this_site_broker(), queues=["celery"], started_at=then,
                              seen_at=then, tasks=[["active", TASK, [job.pk, 0]]])
    row = own_row(here.name, seen=1, back=2)  # the checker's own heartbeat came back 2 s ago
    assert jobs_recover(here) == [] and PushJob.objects.get(pk=job.pk).status == "running", \
        "the other worker's heart may not have written since the database came back"
    WorkerBeat.objects.filter(pk=row.pk).update(back_at=timezone.now() - timedelta(seconds=31))
    app.conf.task_always_eager = True
    assert jobs_recover(here) == [job.pk], "silent for the whole wait while the database was there"
    assert f"({other}) has not checked in since" in PushJob.objects.get(pk=job.pk).message


def test_a_check_blind_after_the_database_was_away_runs_again_as_soon_as_it_can_see(
        transactional_db, monkeypatch, settings):
    from regui.pushes import recovery, signals, tasks

    here = Here("celery@here pid 7", timezone.now() - timedelta(hours=1))
    assert recovery.recheck_in(here) is None, "no heartbeat of its own yet: the next period comes as soon"
    assert 30 <= recovery.recheck_in(here, starting=True) <= 31, "at its start: once its first beat is a wait old"
    started = own_row(here.name, seen=1, back=None)
    WorkerBeat.objects.filter(pk=started.pk).update(started_at=timezone.now() - timedelta(seconds=2))
    assert 28 <= recovery.recheck_in(here, starting=True) <= 30
    assert recovery.recheck_in(here) is None, "a start is the start-up check's to wait for: no task held for later"
    started.delete()
    row = own_row(here.name, seen=1, back=2)
    assert 28 <= recovery.recheck_in(here) <= 30
    WorkerBeat.objects.filter(pk=row.pk).update(seen_at=timezone.now() - timedelta(seconds=40))
    assert recovery.recheck_in(here) == settings.REGUI_WORKER_BEAT, "its own heart not written again yet"
    WorkerBeat.objects.filter(pk=row.pk).update(seen_at=timezone.now(), back_at=timezone.now() - timedelta(seconds=40))
    assert recovery.recheck_in(here) is None

    WorkerBeat.objects.filter(pk=row.pk).update(back_at=timezone.now() - timedelta(seconds=2))
    again: list[tuple[float, Callable[[], None]]] = []
    monkeypatch.setattr(heartbeat, "_heart", SimpleNamespace(worker=here.name))
    monkeypatch.setattr(tasks, "PROCESS_STARTED", here.started_at)
    monkeypatch.setattr(tasks, "run_later", lambda seconds, check: again.append((seconds, check)))
    # In this process, never a task sent with a countdown: the worker would hold it unacknowledged, and a
    # Redis restart meanwhile stops the worker (kombu fails to put it back).
    monkeypatch.setattr(tasks.push_jobs_recover_task, "apply_async", lambda **kw: pytest.fail("a task was sent"))
    request = tasks.push_jobs_recover_task.request  # as a worker's: its host, not eager
    monkeypatch.setattr(request, "hostname", "celery@here", raising=False)
    monkeypatch.setattr(request, "is_eager", False, raising=False)
    tasks.push_jobs_recover_task.run()
    assert len(again) == 1 and 28 <= again[0][0] <= 30
    checked: list[Here] = []
    monkeypatch.setattr(signals, "jobs_recover", lambda h: checked.append(h) or [])
    monkeypatch.setattr(signals, "run_later", lambda seconds, check: None)
    again[0][1]()
    assert checked == [here], "the check made again, when it can see"


def test_a_worker_starting_just_after_the_database_was_away_leaves_a_live_worker_s_job_and_checks_again_once_it_can(
        three, monkeypatch, settings):
    """Every heart stopped while the database was away; a worker (re)started meanwhile runs its start-up
    check as soon as the database is back, before the live workers' hearts had a beat to write again."""
    from regui.core.heartbeat import worker_name
    from regui.pushes import signals

    other, new = "celery@other pid 8", worker_name("celery@new", os.getpid())
    job = killed_running(three, monkeypatch, other)
    then = timezone.now() - timedelta(seconds=45)  # its last beat, before the database went away
    WorkerBeat.objects.create(name=other, broker=this_site_broker(), queues=["celery"], started_at=then,
                              seen_at=then, tasks=[["active", TASK, [job.pk, 0]]])
    later: list = []
    monkeypatch.setattr(signals, "run_later", lambda seconds, check: later.append((seconds, check)))
    monkeypatch.setattr(signals, "PROCESS_STARTED", timezone.now())
    signals._recover_on_start(SimpleNamespace(hostname="celery@new"))  # before its own heart's first beat
    assert PushJob.objects.get(pk=job.pk).status == "running", "the live worker's heart had no beat to write yet"
    ((seconds, check),) = later
    assert settings.REGUI_WORKER_WAIT <= seconds <= settings.REGUI_WORKER_WAIT + 1, \
        "checked again once its own heart has been written for the wait"

    now = timezone.now()
    row = WorkerBeat.objects.create(name=new, broker=this_site_broker(), queues=["celery"], started_at=now,
                                    seen_at=now)  # its first beat, just written
    assert jobs_recover(Here(new, signals.PROCESS_STARTED)) == [], "its own heart written only just now"

    # The check again: the other worker's heart has had the whole wait to write, and has not.
    WorkerBeat.objects.filter(pk=row.pk).update(started_at=now - timedelta(seconds=settings.REGUI_WORKER_WAIT + 1))
    app.conf.task_always_eager = True
    later.clear()
    check()
    assert PushJob.objects.get(pk=job.pk).status == "interrupted" and later == [], "a dead worker's job, then"
    assert f"({other}) has not checked in since" in PushJob.objects.get(pk=job.pk).message


def test_the_start_up_check_is_made_again_a_few_times_at_most_while_its_own_heart_has_not_written(
        transactional_db, monkeypatch):
    """A heart that never writes (its process gone wrong) leaves it to the periodic check, not to an
    endless chain of checks."""
    from regui.pushes import signals

    later: list = []
    monkeypatch.setattr(signals, "run_later", lambda seconds, check: later.append(check))
    signals._recover_on_start(SimpleNamespace(hostname="celery@new"))
    for _ in range(5):
        if later:
            later.pop()()
    assert later == []
