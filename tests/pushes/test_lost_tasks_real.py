"""Real workers on Redis and harness nodes: a chunk's task that never starts does not leave its job
queued forever. (1) A worker killed (`kill -9`) while holding a job's task in reserve: the next worker
to start ends that job interrupted too. (2) The broker loses a job's queued task (its queue deleted, as a
Redis restarted without persistence leaves it): Celery beat's periodic check, in a worker that is up and
free, ends the job interrupted. Either way "Re-run unfinished nodes" then pushes every node."""

from __future__ import annotations

import os
import signal

import pytest

from tests.conftest import require
from tests.procs import QUIET, celery_worker
from tests.pushes.real_workers import cluster_with, new_queue, sender, wait_for, worker_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
_RUN_BROKER = os.environ.get("CELERY_BROKER_URL", "")
REDIS = os.environ.get("REGUI_TEST_BROKER_URL") or (
    _RUN_BROKER if _RUN_BROKER.startswith("redis://") else "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_queue(monkeypatch):
    """A queue of its own on Redis; jobs created here are sent to it."""
    import redis

    from regui.pushes import services

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        require(False, f"Redis at {REDIS}: {exc}")
    queue = new_queue("lost")
    monkeypatch.setattr(services, "celery_send", sender(queue, REDIS))
    yield queue, client
    client.delete(queue)


def status(job) -> str:
    from regui.pushes.models import PushJob

    return PushJob.objects.get(pk=job.pk).status


def rerun_pushes_every_node(job, log) -> None:
    from regui.pushes import services

    rerun = services.push_job_rerun(job)
    wait_for("the re-run", lambda: status(rerun) not in ("queued", "running"), timeout=60, log=log)
    rerun.refresh_from_db()
    assert rerun.status == "done" and {r.status for r in rerun.results.all()} == {"changed"}


def test_a_task_held_in_reserve_by_a_killed_worker_ends_its_job_when_a_worker_starts(
        redis_queue, nodes, make_user, tmp_path):
    from django.conf import settings

    from regui.core.models import WorkerBeat
    from regui.pushes import services

    queue, _ = redis_queue
    user = make_user("olivia", "operator")
    busy_nodes, waiting_nodes = nodes(1), nodes(1)
    busy_nodes.nodes[0].set_systemctl(restart_seconds=30)
    busy, waiting = cluster_with("busy", busy_nodes, ["agent"]), cluster_with("waiting", waiting_nodes, ["agent"])
    env = worker_env(settings.DATA_DIR, queue, REDIS)
    first_log = tmp_path / "first.log"
    # Heartbeats a minute apart: only the one written as the task arrives can say that it holds it.
    first_env = {**env, "REGUI_WORKER_BEAT": "60"}
    with celery_worker(first_env, first_log, concurrency=1, flags=(*QUIET, "-n", "first@%h")) as worker:
        slow = services.push_job_create(cluster=busy, user=user)
        wait_for("the busy job running", lambda: status(slow) == "running", log=first_log)
        held = services.push_job_create(cluster=waiting, user=user)
        wait_for("the second job's task held in reserve", lambda: any(
            t[0] == "reserved" and t[2][:1] == [held.pk] for b in WorkerBeat.objects.all() for t in b.tasks),
            timeout=15, log=first_log)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert status(held) == "queued"
    second_log = tmp_path / "second.log"
    with celery_worker(env, second_log, concurrency=1, flags=(*QUIET, "-n", "second@%h"), warm_stop=False):
        wait_for("both jobs interrupted", lambda: status(slow) == status(held) == "interrupted", timeout=30,
                 log=second_log)
        held.refresh_from_db()
        assert "first@" in held.message and "stopped before running it" in held.message
        assert {r.status for r in held.results.all()} == {"interrupted"}
        assert waiting_nodes.nodes[0].read("/etc/rancher/k3s/registries.yaml") is None, "never pushed"
        rerun_pushes_every_node(held, second_log)


def test_a_task_the_broker_lost_ends_its_job_at_the_periodic_check(redis_queue, nodes, make_user, tmp_path):
    from django.conf import settings

    from regui.pushes import services

    queue, client = redis_queue
    h = nodes(2)
    cluster = cluster_with("prod", h, ["agent", "agent"])
    job = services.push_job_create(cluster=cluster, user=make_user("olivia", "operator"))
    assert client.llen(queue) == 1, "the job's task waits in Redis for a worker"
    client.delete(queue)  # Redis restarted without its data: the task is gone
    env = worker_env(settings.DATA_DIR, queue, REDIS)
    log = tmp_path / "worker.log"
    with celery_worker(env, log, concurrency=1, flags=(*QUIET, "--beat", "-s", str(tmp_path / "beat-schedule"),
                                                       "-n", "only@%h"), warm_stop=False):
        assert status(job) == "queued", "a worker that just started may still get it"
        wait_for("the job interrupted", lambda: status(job) == "interrupted", timeout=40, log=log)
        job.refresh_from_db()
        assert "its task was lost: worker only@" in job.message and "was free to take it" in job.message
        assert {r.status for r in job.results.all()} == {"interrupted"}
        assert all(hn.read("/etc/rancher/k3s/registries.yaml") is None for hn in h.nodes)
        rerun_pushes_every_node(job, log)
