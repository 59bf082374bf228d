"""Pushes through the real path: a Celery worker process, the test database, harness nodes over SSH."""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import require
from tests.procs import app_env, celery_worker

# Short timeouts so failure cases finish quickly; the worker reads them from its environment.
FAST = {"REGUI_SSH_CONNECT_TIMEOUT": "2", "REGUI_SSH_RETRIES": "2", "REGUI_SSH_BACKOFF": "0.2",
        "REGUI_SSH_COMMAND_TIMEOUT": "8", "REGUI_RESTART_WAIT": "5", "REGUI_NODE_LOCK_WAIT": "60"}

YAML = ('mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com:5000"]\n'
        'configs:\n  "mirror.example.com:5000":\n    auth: {username: robot, password: "push-secret-7Q"}\n')


def _database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture(scope="session")
def push_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """One real `celery worker` for the session, on this run's broker and test database."""
    from django.conf import settings

    extra = {"DATABASE_URL": _database_url(), "REGUI_CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE, **FAST}
    if os.environ.get("CELERY_BROKER_URL"):
        extra["CELERY_BROKER_URL"] = os.environ["CELERY_BROKER_URL"]
    env = app_env(settings.DATA_DIR, **extra)
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with celery_worker(env, log, concurrency=2, warm_stop=False) as proc:
        proc.log = log
        yield proc


@pytest.fixture
def nodes():
    """Start harness nodes: `nodes(3, sudo=..., etc_dirs=())`; all are torn down after the test."""
    from tests.harness.nodes import Harness, HarnessUnavailable

    started = []

    def start(n: int = 3, **kwargs):
        try:
            h = Harness.create(n, **{"etc_dirs": (), **kwargs})
        except HarnessUnavailable as exc:
            require(False, f"SSH test nodes: {exc}")
        started.append(h)
        return h

    yield start
    for h in started:
        h.destroy()


@pytest.fixture
def stack(push_worker, nodes, make_user, transactional_db):
    """A cluster with a registries render, nodes registered with approved host keys, and a push helper."""
    from regui.inventory.models import Node
    from regui.registries.importing import registries_import
    from regui.registries.models import Cluster

    class Stack:
        def __init__(self):
            self.user = make_user("olivia", "operator")
            self.cluster = Cluster.objects.create(name="prod", distro="k3s")
            registries_import(cluster=self.cluster, text=YAML, replace=True)
            self.harness = None
            self.nodes: list[Node] = []

        def add(self, h, roles=None, approve=True, user=None, credential=None, use_sudo=False):
            roles = roles or ["agent"] * len(h.nodes)
            for hn, role in zip(h.nodes, roles, strict=True):
                node = Node(cluster=self.cluster, name=hn.name + f"-{h.id}", address=hn.address, port=hn.port,
                            role=role, ssh_user=user or h.user, use_sudo=use_sudo,
                            credential_kind="password" if credential else "key")
                node.seal_credential(credential or h.client_private_key_pem)
                if approve:
                    node.host_key_type, node.host_key = hn.host_key_type, hn.host_key_public
                    node.host_key_fingerprint = hn.host_key_fingerprint
                    from django.utils import timezone

                    node.host_key_approved_at = timezone.now()
                node.save()
                node.harness = hn
                self.nodes.append(node)
            return self.nodes[-len(h.nodes):]

        def push(self, nodes=None, restart=True, kind="push", wait=True, timeout=90):
            from regui.pushes.services import push_job_create

            job = push_job_create(cluster=self.cluster, user=self.user, nodes=nodes, restart=restart, kind=kind)
            return self.wait(job, timeout) if wait else job

        def wait(self, job, timeout=90):
            deadline = time.monotonic() + timeout
            while True:
                job.refresh_from_db()
                if not job.is_active:
                    return job
                if time.monotonic() > deadline:
                    raise AssertionError(f"job {job.pk} still {job.status} after {timeout} s:\n"
                                         + push_worker_log(push_worker))
                time.sleep(0.1)

        def results(self, job) -> dict:
            return {r.node_name.split("-")[0]: r for r in job.results.all()}

    return Stack()


def push_worker_log(proc) -> str:
    return proc.log.read_text()[-4000:]


@pytest.fixture
def fleet(fake_ssh, make_user, transactional_db, settings):
    """Pushes run in this process against fake nodes (tests/fakes/): the fast tier's push stack.
    Transactional: the job's node threads use their own database connections and must see the rows."""
    import regui.pushes.tasks  # noqa: F401  (registers the task, so eager mode applies to it)
    from regui.celery import app
    from tests.fakes.fleet import Fleet

    settings.REGUI_RESTART_WAIT = 1
    settings.REGUI_READBACK_AFTER_PUSH = False  # a task of its own after a push: tests/nodechecks turn it on
    settings.REGUI_SSH_CONNECT_TIMEOUT = 2
    settings.REGUI_SSH_COMMAND_TIMEOUT = 8
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    try:
        yield Fleet(fake_ssh, make_user("olivia", "operator"))
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def queued(fleet, monkeypatch):
    """Jobs are only queued (as for a worker); `run(job, chunk)` runs one chunk, as a worker would."""
    from regui.celery import app
    from regui.pushes import rolling, services

    sent: list[int] = []
    monkeypatch.setattr(services, "celery_send", lambda job_id, chunks: sent.extend(chunks))
    app.conf.task_always_eager = False

    def run(job, chunk: int):
        return rolling.push_job_run(job.pk, chunk, send=lambda job_id, chunks: sent.extend(chunks))

    yield sent, run
    app.conf.task_always_eager = True


@pytest.fixture
def checks(monkeypatch) -> list[str]:
    """Every time the render is checked (lint and K3s's own parse), with its redacted text (the real
    check runs)."""
    from regui.pushes import files

    seen: list[str] = []
    real = files._check

    def check(cluster, text):
        seen.append(text)
        return real(cluster, text)

    monkeypatch.setattr(files, "_check", check)
    return seen
