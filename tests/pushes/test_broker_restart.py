"""Redis restarted in the middle of a push (real worker, a Redis of this test's own, harness nodes): the
worker that sends the next step's chunks waits until the broker is back instead of failing the push
at its step boundary."""

from __future__ import annotations

import socket
import subprocess
import time
from contextlib import closing

import pytest

from tests.conftest import require_binary
from tests.procs import QUIET, celery_worker
from tests.pushes.real_workers import cluster_with, new_queue, sender, wait_for, worker_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server(binary: str, port: int, folder) -> subprocess.Popen:
    proc = subprocess.Popen([binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL)
    wait_for("redis", lambda: subprocess.run([binary.replace("-server", "-cli"), "-p", str(port), "ping"],
                                             capture_output=True).stdout.strip() == b"PONG", timeout=10)
    return proc


def test_a_push_whose_broker_restarts_during_the_pause_between_steps_finishes(
        nodes, make_user, monkeypatch, tmp_path, settings):
    from regui.pushes import services
    from regui.pushes.models import PushJob

    binary, port = require_binary("redis-server"), free_port()
    settings.REGUI_PUSH_CHUNK = 1  # two chunks a step: the worker sends the second step's to the broker
    h = nodes(4)
    cluster = cluster_with("prod", h, ["agent"] * 4)
    url, queue = f"redis://127.0.0.1:{port}/0", new_queue("broker")
    monkeypatch.setattr(services, "celery_send", sender(queue, url))
    log = tmp_path / "worker.log"
    redis = redis_server(binary, port, tmp_path)
    try:
        with celery_worker(worker_env(settings.DATA_DIR, queue, url), log, flags=(*QUIET, "-n", "w@%h"),
                           warm_stop=False):
            job = services.push_job_create(cluster=cluster, user=make_user("olivia", "operator"),
                                           policy=services.effective_policy(cluster, {"agents_at_once": "2",
                                                                                      "pause_seconds": "2"}))
            wait_for("the pause after the first step", lambda: PushJob.objects.get(pk=job.pk).paused_until, log=log)
            redis.kill()
            redis.wait()
            time.sleep(4)  # down when the pause ends and the second step is sent
            redis = redis_server(binary, port, tmp_path)
            wait_for("the push", lambda: not PushJob.objects.get(pk=job.pk).is_active, timeout=60, log=log)
    finally:
        redis.kill()
        redis.wait()
    job.refresh_from_db()
    assert (job.status, job.message) == ("done", ""), log.read_text()[-3000:]
    assert sorted(job.results.values_list("status", flat=True)) == ["changed"] * 4
    assert job.chunks.filter(step=1).count() == 2
