"""A chunk's task that never starts (its message lost with a broker restarted without its queue, or on
its way) leaves nothing queued or running forever: once a worker of this site's queue has been up and
free to take it for REGUI_WORKER_WAIT, the periodic check (or a worker's start) ends the job as
interrupted, and "Re-run unfinished nodes" stays one click. Heartbeat rows written here stand for
workers (tests/pushes/test_worker_kill.py kills a real one)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from regui.celery import app
from regui.core.heartbeat import this_site_broker
from regui.core.models import WorkerBeat
from regui.inventory.models import Node
from regui.pushes import rolling, services
from regui.pushes.models import PushJob
from regui.pushes.recovery import Beat, ChunkState, jobs_recover, lost_chunks

pytestmark = pytest.mark.django_db(transaction=True)
TASK = "regui.push_job_run"
NOW = timezone.now()
FREE = "celery@free pid 11"


def worker(name: str = FREE, *tasks: list, up: float = 3600, queue: str = "", broker: str = "") -> WorkerBeat:
    """A live worker's heartbeat row: up for `up` seconds, seen just now, holding `tasks`."""
    from django.conf import settings

    now = timezone.now()
    return WorkerBeat.objects.create(name=name, broker=broker or this_site_broker(),
                                     queues=[queue or settings.CELERY_TASK_DEFAULT_QUEUE],
                                     started_at=now - timedelta(seconds=up), seen_at=now, tasks=list(tasks))


def lost_on_the_way(fleet, monkeypatch, queued_ago: float = 120, **choices) -> PushJob:
    """A job whose first step's tasks the broker never delivered (queued `queued_ago` seconds ago)."""
    monkeypatch.setattr(services, "celery_send", lambda job_id, chunks: None)
    app.conf.task_always_eager = False
    try:
        job = services.push_job_create(cluster=fleet.cluster, user=fleet.user,
                                       policy=services.effective_policy(fleet.cluster, choices))
    finally:
        app.conf.task_always_eager = True
    job.chunks.update(queued_at=timezone.now() - timedelta(seconds=queued_ago))
    PushJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=queued_ago))
    return job


@pytest.fixture
def agents(fleet):
    WorkerBeat.objects.all().delete()
    fleet.add("agent", "agent", "agent")
    return fleet


def test_a_job_whose_task_never_arrived_ends_interrupted_once_a_free_worker_has_not_taken_it(agents, monkeypatch):
    job = lost_on_the_way(agents, monkeypatch)
    worker(FREE)
    assert jobs_recover() == [job.pk]
    job.refresh_from_db()
    assert job.status == "interrupted" and job.finished_at
    assert f"its task was lost: worker {FREE} was free to take it and has not in" in job.message
    assert {(r.status, r.message) for r in job.results.all()} == {("interrupted", "interrupted: not pushed")}
    assert set(job.chunks.values_list("status", flat=True)) == {"interrupted"}
    assert not Node.objects.filter(lock_job=job.pk).exists()
    assert all(agents[n].connects == [] for n in ("a1", "a2", "a3"))
    assert not job.followups.exists(), "nothing was in flight: nothing to re-read"


def test_re_run_after_a_lost_task_is_one_click_and_pushes_every_node(agents, monkeypatch):
    job = lost_on_the_way(agents, monkeypatch)
    worker(FREE)
    jobs_recover()
    monkeypatch.setattr(services, "celery_send", rolling.celery_send)
    client = Client()
    client.force_login(agents.user)
    assert "Re-run unfinished nodes (3)" in client.get(f"/jobs/{job.pk}/").content.decode()
    response = client.post(f"/clusters/{agents.cluster.name}/push/", {"scope": "rerun", "job": job.pk})
    rerun = PushJob.objects.exclude(pk=job.pk).get()
    assert response.url == f"/jobs/{rerun.pk}/" and rerun.status == "done"
    assert {r.status for r in rerun.results.all()} == {"changed"}


def test_a_later_step_whose_tasks_were_lost_keeps_what_the_first_step_did(agents, monkeypatch, settings):
    settings.REGUI_PUSH_CHUNK = 1
    agents.add("agent")
    sent: list[int] = []
    job = lost_on_the_way(agents, monkeypatch, agents_at_once="2")
    for chunk in (0, 1):  # a1 and a2; the next step's tasks (a3, a4) are lost on their way
        rolling.push_job_run(job.pk, chunk, send=lambda job_id, chunks: sent.extend(chunks))
    assert sent == [2, 3] and PushJob.objects.get(pk=job.pk).status == "running"
    job.chunks.filter(index__in=sent).update(queued_at=timezone.now() - timedelta(seconds=60))
    worker(FREE)
    assert jobs_recover() == [job.pk]
    res = agents.results(PushJob.objects.get(pk=job.pk))
    assert res["a1"].status == res["a2"].status == "changed"
    assert res["a3"].status == res["a4"].status == "interrupted"
    assert list(job.chunks.values_list("status", flat=True)) == ["done", "done", "interrupted", "interrupted"]


def test_a_queued_task_waits_while_the_workers_are_busy_with_others_or_just_started(agents, monkeypatch):
    job = lost_on_the_way(agents, monkeypatch)
    worker("celery@busy pid 1", ["active", TASK, [999, 0]], ["reserved", TASK, [998, 0]])
    worker("celery@new pid 2", up=5)  # up for less than REGUI_WORKER_WAIT: its queue may still deliver it
    worker("celery@other pid 3", queue="someone-else")  # reads another install's queue
    worker("celery@away pid 4", broker="redis://elsewhere:6379/0")
    assert jobs_recover() == [] and PushJob.objects.get(pk=job.pk).status == "queued"


def test_a_queued_task_a_live_worker_holds_is_not_lost(agents, monkeypatch):
    job = lost_on_the_way(agents, monkeypatch)
    worker(FREE, ["reserved", TASK, [job.pk, 0]])
    assert jobs_recover() == []


def test_no_worker_at_all_leaves_the_job_queued_for_the_next_one_to_take(agents, monkeypatch):
    job = lost_on_the_way(agents, monkeypatch, queued_ago=3600)
    assert jobs_recover() == [] and PushJob.objects.get(pk=job.pk).status == "queued"


# Pure: the bound, from chunk states and heartbeat rows.

def queued(age: float, index: int = 0) -> ChunkState:
    return ChunkState(1, index, "queued", "", None, NOW - timedelta(seconds=age))


def free(up: float = 3600, *tasks: list, takes: bool = True) -> Beat:
    return Beat(FREE, NOW - timedelta(seconds=1), list(tasks), NOW - timedelta(seconds=up), takes)


def lost(chunks, beats):
    return lost_chunks(chunks, beats, now=NOW, wait=30)


def test_a_queued_chunk_is_lost_only_after_a_free_worker_had_the_whole_wait_to_take_it():
    assert lost([queued(20)], [free()]) == {}
    assert "its task was lost" in lost([queued(40)], [free()])[(1, 0)]
    assert lost([queued(400)], [free(up=20)]) == {}, "the worker has been up for less than the wait"
    assert "its task was lost" in lost([queued(400)], [free(up=40)])[(1, 0)]


def test_a_worker_with_tasks_in_reserve_may_not_have_reached_the_chunk_yet():
    assert lost([queued(400)], [free(3600, ["reserved", TASK, [2, 0]])]) == {}
    assert "its task was lost" in lost([queued(400)], [free(3600, ["active", TASK, [2, 0]])])[(1, 0)], \
        "running other tasks, a worker still prefetches its queue"


def test_a_worker_of_another_queue_or_broker_says_nothing_of_this_one():
    assert lost([queued(400)], [free(takes=False)]) == {}


def test_a_chunk_of_unknown_age_is_never_lost_this_way():
    assert lost([ChunkState(1, 0, "queued", "", None)], [free()]) == {}


def test_a_failed_jobs_chunk_lost_with_its_worker_frees_its_nodes_and_the_job_ends_for_good(agents, monkeypatch):
    from regui.pushes.events import job_ended

    ended: list[int] = []
    job_ended.connect(lambda sender, job_id, **kw: ended.append(job_id), weak=False, dispatch_uid="spy-lost")
    try:
        job = lost_on_the_way(agents, monkeypatch, agents_at_once="100%")
        # Chunk 0 failed the job on one worker while another still ran its nodes... and was then killed.
        gone = "celery@elsewhere pid 4242"
        then = timezone.now() - timedelta(seconds=60)
        PushJob.objects.filter(pk=job.pk).update(status="failed", message="The push failed: boom.", started_at=then)
        job.chunks.update(status="running", worker=gone, started_at=then)
        job.results.filter(node_name="a1").update(status="running", started_at=then)
        Node.objects.filter(name="a1").update(lock_job=job.pk, lock_at=then)
        WorkerBeat.objects.create(name=gone, broker=this_site_broker(), queues=["celery"], started_at=then,
                                  seen_at=then, tasks=[["active", TASK, [job.pk, 0]]])
        assert jobs_recover() == [], "the job had ended already"
        job.refresh_from_db()
        assert job.status == "failed" and job.message == "The push failed: boom."
        res = agents.results(job)
        assert res["a1"].status == "interrupted" and "whether its file was written" in res["a1"].message
        assert res["a2"].status == res["a3"].status == "interrupted"
        a1 = Node.objects.get(name="a1")
        assert a1.lock_job is None and a1.restart_pending
        assert set(job.chunks.values_list("status", flat=True)) == {"interrupted"}
        (check,) = job.followups.all()
        assert check.kind == "drift" and [r.node_name for r in check.results.all()] == ["a1"]
        assert ended.count(job.pk) == 1, "its end is announced once nothing of it runs"
        assert jobs_recover() == [] and ended.count(job.pk) == 1
    finally:
        job_ended.disconnect(dispatch_uid="spy-lost")
