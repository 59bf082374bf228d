"""Thousands of small tasks through a real worker started with bin/run's flags: none lost, the worker
alive, in a bounded time; on the embedded broker and on Redis. And tasks a killed worker had taken
but not started run on the next worker (embedded broker: Redis keeps them for its visibility timeout)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import require
from tests.procs import AS_BIN_RUN, ROOT, app_env, celery_worker, migrated

pytestmark = pytest.mark.slow  # real Celery workers and senders

SENDERS, PER_SENDER = 2, 1500
BOUND = 180  # seconds for all of them, on a 2-core machine shared with other tests

SEND = "import json; from regui.core.tasks import ping; print(json.dumps([ping.delay().id for _ in range({n})]))"
# django_celery_results' table, read straight from the worker's SQLite file: a `manage.py shell` a second
# (as this read was) took most of a core from the worker it was waiting for.
COUNT = "SELECT count(*) FROM django_celery_results_taskresult WHERE task_name = 'regui.ping' AND status = 'SUCCESS'"


def senders(env: dict[str, str], n: int, count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "manage.py", "shell", "-c", SEND.format(n=n)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(count)]


def sent_ids(procs: list[subprocess.Popen]) -> list[str]:
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=BOUND)
        assert p.returncode == 0, err[-2000:]
        ids += json.loads(out.strip().splitlines()[-1])
    return ids


def done(env: dict[str, str]) -> int:
    with contextlib.closing(sqlite3.connect(Path(env["REGUI_DATA_DIR"]) / "regui.sqlite3", timeout=30)) as db:
        return db.execute(COUNT).fetchone()[0]


def wait_all(env: dict[str, str], total: int, worker: subprocess.Popen, deadline: float) -> int:
    finished = done(env)
    while finished < total and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.2)
        finished = done(env)
    return finished


def stress(env: dict[str, str], log: Path, warm_stop: bool = True) -> None:
    migrated(env)
    with celery_worker(env, log, concurrency=2, flags=AS_BIN_RUN, warm_stop=warm_stop) as worker:
        started = time.monotonic()
        ids = sent_ids(senders(env, PER_SENDER, SENDERS))
        finished = wait_all(env, len(ids), worker, started + BOUND)
        alive = worker.poll() is None
    text = log.read_text()
    assert "Unrecoverable error" not in text, re.findall(r"Unrecoverable error.*", text)
    assert alive, text[-3000:]
    assert len(set(ids)) == SENDERS * PER_SENDER
    assert finished == len(ids), f"{len(ids) - finished} tasks lost or late after {BOUND} s"


def test_the_embedded_broker_runs_3000_tasks_from_two_senders_with_none_lost_and_the_worker_alive(tmp_path):
    stress(app_env(tmp_path), tmp_path / "worker.log")
    assert not list((tmp_path / "celery" / "queue").glob("*.msg")), "the queue is empty"
    assert not list((tmp_path / "celery" / "claimed").glob("*/*.msg")), "nothing is left taken"


def test_redis_runs_3000_tasks_from_two_senders_with_none_lost_and_the_worker_alive(tmp_path):
    import redis

    broker = os.environ.get("REGUI_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        require(False, f"Redis at {broker}: {exc}")
    env = app_env(tmp_path, CELERY_BROKER_URL=broker, REGUI_CELERY_QUEUE=f"regui-stress-{uuid.uuid4().hex[:8]}")
    stress(env, tmp_path / "worker.log", warm_stop=False)


def _children(pid: int) -> list[int]:
    return [int(c) for t in Path(f"/proc/{pid}/task").iterdir()
            for c in (t / "children").read_text().split()]


def test_tasks_a_killed_worker_had_taken_but_not_started_run_on_the_next_worker(tmp_path):
    env = app_env(tmp_path)
    migrated(env)
    with celery_worker(env, tmp_path / "first.log", concurrency=1) as worker:
        stopped = []
        for child in _children(worker.pid):
            try:
                os.kill(child, signal.SIGSTOP)  # its pool cannot start (so cannot acknowledge) anything
                stopped.append(child)
            except ProcessLookupError:  # a child that ended between the listing and the signal (CI, once)
                pass
        assert stopped, "the worker's pool process was stopped"
        ids = sent_ids(senders(env, 10, 1))
        deadline = time.monotonic() + 60
        while "received" not in (tmp_path / "first.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        taken = list((tmp_path / "celery" / "claimed").glob("*/*.msg"))
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    assert taken, "the killed worker held tasks it had taken from the queue"
    assert done(env) == 0
    with celery_worker(env, tmp_path / "second.log", concurrency=1, warm_stop=False) as worker:
        finished = wait_all(env, len(ids), worker, time.monotonic() + 60)
    assert finished == len(ids) == 10
    assert "Put back" in (tmp_path / "second.log").read_text()
