"""A real Celery worker answers on the embedded broker and on Redis, and reaches the database."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit

import pytest

from tests.conftest import require
from tests.procs import app_env, celery_worker, manage, migrated

pytestmark = pytest.mark.slow  # real Celery workers

SEND = "from regui.core.tasks import ping; print(ping.delay().get(timeout=60))"


def test_a_worker_answers_on_the_embedded_filesystem_broker_and_sqlite(tmp_path):
    env = app_env(tmp_path)
    migrated(env)
    with celery_worker(env, tmp_path / "worker.log", warm_stop=False):
        r = manage(env, "shell", "-c", SEND)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "pong"
    assert (tmp_path / "celery" / "queue").is_dir()


@pytest.fixture
def postgres_database():
    psycopg = pytest.importorskip("psycopg")
    base = os.environ.get("REGUI_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    try:
        conn = psycopg.connect(base, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        require(False, f"PostgreSQL at {base}: {exc}")
    name = f"regui_worker_{uuid.uuid4().hex[:8]}"
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture
def redis_broker() -> str:
    import redis

    broker = os.environ.get("REGUI_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        require(False, f"Redis at {broker}: {exc}")
    return broker


def _production_env(tmp_path, database: str, broker: str) -> dict[str, str]:
    # Its own queue: the session's push worker listens on the same Redis database.
    return app_env(tmp_path, DATABASE_URL=database, CELERY_BROKER_URL=broker,
                   REGUI_CELERY_QUEUE=f"regui-test-{uuid.uuid4().hex[:8]}")


def _database_ports(pid: int, server_port: int) -> set[int]:
    """Local ports of the process's TCP connections to the database server (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.split(":")[1], 16) == server_port:
                ports.add(int(local.split(":")[1], 16))
    return ports


# One worker on Redis with PostgreSQL (what it answers, and the connection it answers with): these were
# two tests, each migrating a database and starting a worker for the same run.
def test_a_worker_answers_on_redis_with_postgresql_and_keeps_its_connection_from_one_task_to_the_next(
        tmp_path, postgres_database, redis_broker):
    env = _production_env(tmp_path, postgres_database, redis_broker)
    made = manage(env, "migrate", "-v0")
    assert made.returncode == 0, made.stderr
    server_port = int(urlsplit(postgres_database).port or 5432)
    with celery_worker(env, tmp_path / "worker.log", concurrency=1, warm_stop=False) as worker:
        with open(f"/proc/{worker.pid}/task/{worker.pid}/children") as f:
            (child,) = [int(p) for p in f.read().split()]  # the pool's one process runs the tasks
        first = manage(env, "shell", "-c", SEND)
        after_first = _database_ports(child, server_port)
        second = manage(env, "shell", "-c", SEND)
        after_second = _database_ports(child, server_port)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[-1] == "pong" and second.stdout.strip().splitlines()[-1] == "pong", \
        first.stderr + second.stderr
    assert not (tmp_path / "celery").exists(), "the Redis run must not fall back to the filesystem broker"
    # Celery's Django fixup closed it after each task, and each task waited for a new server process.
    assert after_first, "the worker process closed its database connection after the task"
    assert after_second == after_first
