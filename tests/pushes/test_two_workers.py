"""Two real workers on one Redis, one task at a time each: two clusters' jobs run at once, one on each
worker; a large job's step goes out in chunks that both workers take, at once. Harness nodes whose
restart takes a set time make the overlaps visible in the nodes' own restart logs."""

from __future__ import annotations

import os
from contextlib import ExitStack

import pytest

from tests.conftest import require
from tests.procs import QUIET, celery_worker
from tests.pushes.real_workers import cluster_with, new_queue, sender, wait_for, worker_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
REDIS = os.environ.get("REGUI_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def two_workers(monkeypatch, tmp_path):
    """Start two workers on Redis (`-n one@%h`, `-n two@%h`, --concurrency=1); jobs created here go to them."""
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
        def start(**extra: str) -> list:
            env = worker_env(settings.DATA_DIR, queue, REDIS, **extra)
            return [stack.enter_context(celery_worker(env, tmp_path / f"{name}.log", concurrency=1,
                                                      flags=(*QUIET, "-n", f"{name}@%h")))
                    for name in ("one", "two")]

        yield start


def done(job, log=None):
    from regui.pushes.models import PushJob

    wait_for(f"job {job.pk}", lambda: not PushJob.objects.get(pk=job.pk).is_active, timeout=90, log=log)
    job.refresh_from_db()
    assert job.status == "done", job.message
    return job


def restarts(harness) -> list[tuple[float, float]]:
    return sorted((r.start, r.end) for hn in harness.nodes for r in hn.restarts())


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
    workers = {j.chunks.get().worker.split("@")[0] for j in jobs}
    assert workers == {"one", "two"}
    (a_start, a_end), (b_start, b_end) = restarts(harnesses[0])[0], restarts(harnesses[1])[0]
    assert a_start < b_end and b_start < a_end, "the two clusters' restarts overlapped"


def test_a_large_step_is_shared_by_both_workers_at_once(two_workers, nodes, make_user, settings):
    from regui.pushes.services import effective_policy, push_job_create

    settings.REGUI_PUSH_CHUNK = 3  # the plan is made where the job is created
    two_workers()
    h = nodes(6)
    for hn in h.nodes:
        hn.set_systemctl(restart_seconds=2)
    cluster = cluster_with("big", h, ["agent"] * 6)
    job = push_job_create(cluster=cluster, user=make_user("olivia", "operator"),
                          policy=effective_policy(cluster, {"agents_at_once": "100%"}))
    job = done(job)
    chunks = list(job.chunks.all())
    assert len(chunks) == 2 and {c.worker.split("@")[0] for c in chunks} == {"one", "two"}
    first, second = chunks
    assert first.started_at < second.finished_at and second.started_at < first.finished_at, "at once"
    assert {r.status for r in job.results.all()} == {"changed"}
    spans = restarts(h)
    assert len(spans) == 6 and max(s for s, _ in spans) < min(e for _, e in spans), "all six restarts overlapped"
