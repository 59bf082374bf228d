"""A real worker's heartbeat, and the job page once that worker is killed: "no worker is answering"
within REGUI_WORKER_WAIT, on the embedded broker and on Redis."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid

import pytest

from tests.conftest import require
from tests.procs import AS_BIN_RUN, app_env, celery_worker, manage, migrated

pytestmark = pytest.mark.slow  # real Celery workers

WAIT = 3.0

# A job queued 10 s ago whose task was never sent, and its page as a viewer sees it.
PAGE = """
import json
from datetime import timedelta
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from regui.core.services import user_set_role
from regui.pushes.liveness import WorkerWatch
from regui.pushes.models import PushJob
from regui.registries.models import Cluster
cluster, _ = Cluster.objects.get_or_create(name="prod", defaults={"distro": "k3s"})
job = PushJob.objects.create(cluster=cluster, created_by_name="test")
PushJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=10))
user, made = User.objects.get_or_create(username="vic")
if made:
    user_set_role(user=user, role="viewer")
client = Client(HTTP_HOST="localhost")
client.force_login(user)
page = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
print(json.dumps({"alive": len(WorkerWatch().alive), "page": page}))
"""


def look(env: dict[str, str]) -> dict:
    r = manage(env, "shell", "-c", PAGE)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def killed_worker_is_reported(env: dict[str, str], tmp_path) -> None:
    migrated(env)
    with celery_worker(env, tmp_path / "worker.log", flags=AS_BIN_RUN) as worker:
        time.sleep(1)  # a beat or two
        seen = look(env)
        os.killpg(worker.pid, signal.SIGKILL)  # no clean stop: its heartbeat row stays, going stale
        worker.wait()
        killed = time.monotonic()
    assert seen["alive"] == 1
    assert "though one is running and idle: its task may have been lost" in seen["page"], seen["page"]
    time.sleep(max(0.0, killed + WAIT + 1 - time.monotonic()))
    after = look(env)
    assert after["alive"] == 0
    assert "No worker is answering" in after["page"] and "no Celery worker has checked in since" in after["page"]
    assert 'hx-trigger="every 5s"' in after["page"]


def test_a_killed_worker_on_the_embedded_broker_makes_the_job_page_say_no_worker_is_answering(tmp_path):
    env = app_env(tmp_path, REGUI_WORKER_BEAT="0.5", REGUI_WORKER_WAIT=str(WAIT))
    killed_worker_is_reported(env, tmp_path)


def test_a_killed_worker_on_redis_makes_the_job_page_say_no_worker_is_answering(tmp_path):
    import redis

    broker = os.environ.get("REGUI_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        require(False, f"Redis at {broker}: {exc}")
    env = app_env(tmp_path, CELERY_BROKER_URL=broker, REGUI_CELERY_QUEUE=f"regui-death-{uuid.uuid4().hex[:8]}",
                  REGUI_WORKER_BEAT="0.5", REGUI_WORKER_WAIT=str(WAIT))
    killed_worker_is_reported(env, tmp_path)


def test_a_worker_that_stops_cleanly_removes_its_heartbeat_at_once(tmp_path):
    env = app_env(tmp_path, REGUI_WORKER_BEAT="0.5", REGUI_WORKER_WAIT="60")
    migrated(env)
    with celery_worker(env, tmp_path / "worker.log"):
        time.sleep(1)
        assert look(env)["alive"] == 1
    assert look(env)["alive"] == 0, "gone without waiting REGUI_WORKER_WAIT"
