"""Two real workers on one Redis, one task at a time each: two clusters' jobs run at once, one on each
worker; a large job's steps go out in chunks that both workers take, at once, each node's worker
recorded (its chunk's). Harness nodes whose restart takes a set time make the overlaps visible in the
nodes' own restart logs."""

from __future__ import annotations

import os
import signal
from contextlib import ExitStack

import pytest

from tests.conftest import require
from tests.procs import QUIET, celery_worker
from tests.pushes.real_workers import cluster_with, new_queue, sender, wait_for, worker_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
# The run's own Redis when it has one (each run its own database number), else the CI's.
_RUN_BROKER = os.environ.get("CELERY_BROKER_URL", "")
REDIS = os.environ.get("REGUI_TEST_BROKER_URL") or (
    _RUN_BROKER if _RUN_BROKER.startswith("redis://") else "redis://127.0.0.1:6379/15")


@pytest.fixture
def two_workers(monkeypatch, tmp_path):
    """Start two workers on Redis (`-n one@%h`, `-n two@%h`, --concurrency=1), or those named, on the same
    queue; jobs created here go to them."""
    import redis
    from django.conf import settings

    from regui.pushes import services

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        require(False, f"Redis at {REDIS}: {exc}")
    queue = new_queue("two")
    monkeypatch.setattr(services, "celery_send", sender(queue, REDIS))
    with ExitStack() as stack:
        def start(*names: str, **extra: str) -> list:
            env = worker_env(settings.DATA_DIR, queue, REDIS, **extra)
            return [stack.enter_context(celery_worker(env, tmp_path / f"{name}.log", concurrency=1,
                                                      flags=(*QUIET, "-n", f"{name}@%h"), warm_stop=False))
                    for name in names or ("one", "two")]

        yield start


def done(job, log=None):
    from regui.pushes.models import PushJob

    wait_for(f"job {job.pk}", lambda: not PushJob.objects.get(pk=job.pk).is_active, timeout=90, log=log)
    job.refresh_from_db()
    assert job.status == "done", job.message
    return job


def restarts(harness) -> list[tuple[float, float]]:
    return sorted((r.start, r.end) for hn in harness.nodes for r in hn.restarts())


def node_workers(job) -> dict[str, str]:
    """Each node's worker ("one" or "two"): the worker recorded on the chunk (task) that pushed it."""
    by_chunk = {c.index: c.worker for c in job.chunks.all()}
    return {r.node_name: by_chunk[r.chunk].split("@")[0] for r in job.results.all()}


def test_two_clusters_jobs_run_at_once_each_on_its_own_worker(two_workers, nodes, make_user):
    from regui.pushes.services import push_job_create

    two_workers()
    user = make_user("olivia", "operator")
    harnesses = [nodes(1), nodes(1)]
    for h in harnesses:
        h.nodes[0].set_systemctl(restart_seconds=3)
    clusters = [cluster_with(name, h, ["agent"]) for name, h in zip(("east", "west"), harnesses, strict=True)]
    jobs = [push_job_create(cluster=c, user=user) for c in clusters]
    jobs = [done(j) for j in jobs]
    workers = [set(node_workers(j).values()) for j in jobs]
    assert sorted(map(sorted, workers)) == [["one"], ["two"]], "each job on a worker of its own"
    (a_start, a_end), (b_start, b_end) = restarts(harnesses[0])[0], restarts(harnesses[1])[0]
    assert a_start < b_end and b_start < a_end, "the two clusters' restarts overlapped"


def test_a_large_job_spreads_its_nodes_over_both_workers_step_after_step(two_workers, nodes, make_user, settings):
    from regui.pushes.services import effective_policy, push_job_create

    settings.REGUI_PUSH_CHUNK = 2  # the plan is made where the job is created
    two_workers()
    h = nodes(8)
    for hn in h.nodes:
        hn.set_systemctl(restart_seconds=2)
    cluster = cluster_with("big", h, ["agent"] * 8)
    job = push_job_create(cluster=cluster, user=make_user("olivia", "operator"),
                          policy=effective_policy(cluster, {"agents_at_once": "4"}))
    job = done(job)
    assert {r.status for r in job.results.all()} == {"changed"}
    chunks = list(job.chunks.order_by("index"))
    assert [(c.index, c.step) for c in chunks] == [(0, 0), (1, 0), (2, 1), (3, 1)]
    by_node = node_workers(job)
    assert sorted(by_node.values()) == ["one"] * 4 + ["two"] * 4, by_node
    for step in (0, 1):  # the first step sent from here, the second by the worker that ended the first
        first, second = [c for c in chunks if c.step == step]
        assert {first.worker.split("@")[0], second.worker.split("@")[0]} == {"one", "two"}, step
        assert first.started_at < second.finished_at and second.started_at < first.finished_at, f"step {step} at once"
    spans = restarts(h)
    assert len(spans) == 8
    for batch in (spans[:4], spans[4:]):
        assert max(s for s, _ in batch) < min(e for _, e in batch), "a batch's four restarts overlapped"
    assert max(e for _, e in spans[:4]) <= min(s for s, _ in spans[4:]), "the second batch after the first"
    # The read-back after the push: one task for the whole job (not one per chunk), reading every node.
    from django_celery_results.models import TaskResult

    from regui.nodechecks.models import HostsReadback

    wait_for("the read-backs", lambda: HostsReadback.objects.filter(job=job).exclude(
        state__in=["queued", "running"]).count() == 8, timeout=60)
    after_push = TaskResult.objects.filter(task_name="regui.hosts_readback_after_push")
    wait_for("the read-back task's result", after_push.exists, timeout=20)
    assert after_push.count() == 1 and str(job.pk) in after_push.get().task_args


def test_a_worker_killed_beside_another_interrupts_only_its_own_chunk_and_the_re_run_takes_only_its_nodes(
        two_workers, nodes, make_user, settings, tmp_path):
    from django.test import Client

    from regui.inventory.models import Node
    from regui.pushes.models import PushJob
    from regui.pushes.services import effective_policy, push_job_create

    settings.REGUI_PUSH_CHUNK = 2
    workers = dict(zip(("one", "two"), two_workers(), strict=True))
    h = nodes(4)
    for hn in h.nodes:
        # Long enough that a third worker starts, and ends the job, while the live chunk still restarts (6 s
        # was not, on a loaded machine); short of the workers' command timeout (8 + 5 s: conftest.FAST).
        hn.set_systemctl(restart_seconds=11)
    cluster = cluster_with("pair", h, ["agent"] * 4)
    user = make_user("olivia", "operator")
    job = push_job_create(cluster=cluster, user=user, policy=effective_policy(cluster, {"agents_at_once": "4"}))
    wait_for("both chunks mid-restart", lambda: job.chunks.filter(status="running").exclude(worker="").count() == 2
             and all(hn.read("/etc/rancher/k3s/registries.yaml") for hn in h.nodes), timeout=30)
    lost = job.chunks.get(index=0)
    victim = workers[lost.worker.split("@")[0]]
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    two_workers("three")  # its start ends the job: the other worker's chunk goes on
    job.refresh_from_db()
    assert job.status == "interrupted" and lost.worker in job.message
    mine = sorted(job.results.filter(chunk=0).values_list("node_name", flat=True))
    live = job.results.filter(chunk=1)
    assert set(live.values_list("status", flat=True)) == {"running"}, "still restarting on the live worker"
    client = Client()
    client.force_login(user)
    assert "Re-run unfinished nodes (2)" in client.get(f"/jobs/{job.pk}/").content.decode()
    wait_for("the live worker's chunk", lambda: not live.exclude(status="changed").exists(), timeout=45)
    assert set(job.results.filter(chunk=0).values_list("status", flat=True)) == {"interrupted"}
    assert not Node.objects.filter(lock_job=job.pk).exists()
    for hn in h.nodes:
        hn.set_systemctl(restart_seconds=0)
    client.post(f"/clusters/{cluster.name}/push/", {"scope": "rerun", "job": job.pk})
    rerun = done(PushJob.objects.get(origin=job, kind="push"))
    assert sorted(rerun.results.values_list("node_name", flat=True)) == mine
