"""Real Celery workers of their own for a push test: their own queue (no other worker of the run takes
their jobs), the run's database, fast heartbeats; the first chunk of a job sent to that queue."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tests.pushes.conftest import FAST, _database_url

PUSH_TASK = "regui.push_job_run"


def worker_env(data_dir: Path, queue: str, broker: str = "", **extra: str) -> dict[str, str]:
    from tests.procs import app_env

    env = {"DATABASE_URL": _database_url(), "REGUI_CELERY_QUEUE": queue, "REGUI_WORKER_BEAT": "0.5",
           "REGUI_WORKER_WAIT": "5", **FAST, **extra}
    broker = broker or os.environ.get("CELERY_BROKER_URL", "")
    if broker:
        env["CELERY_BROKER_URL"] = broker
    return app_env(data_dir, **env)


def new_queue(what: str) -> str:
    return f"regui-{what}-{uuid.uuid4().hex[:8]}"


def sender(queue: str, broker: str = "") -> Callable[[int, list[int]], None]:
    """Stands in for rolling.celery_send in the test process: to `queue`, on `broker` (default: the run's)."""
    from kombu import Connection

    from regui.celery import app

    def send(job_id: int, chunks: list[int]) -> None:
        # kombu's own connection to `broker`: the app's would use the run's transport (the embedded
        # broker's, with the embedded defaults) whatever the URL.
        with (Connection(broker) if broker else app.connection_for_write()) as conn:
            for index in chunks:
                app.signature(PUSH_TASK, args=[job_id, index]).apply_async(connection=conn, queue=queue)

    return send


def wait_for(what: str, check: Callable[[], object], timeout: float = 60, log: Path | None = None) -> object:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            tail = log.read_text()[-4000:] if log and log.exists() else ""
            raise AssertionError(f"{what}: not within {timeout} s\n{tail}")
        time.sleep(0.1)
    return value


def cluster_with(name: str, harness, roles: list[str]):
    """A cluster with a pushable render and the harness nodes as its nodes (approved keys)."""
    from django.utils import timezone

    from regui.inventory.models import Node
    from regui.registries.importing import registries_import
    from regui.registries.models import Cluster
    from tests.pushes.conftest import YAML

    cluster = Cluster.objects.create(name=name, distro="k3s")
    registries_import(cluster=cluster, text=YAML, replace=True)
    for hn, role in zip(harness.nodes, roles, strict=True):
        node = Node(cluster=cluster, name=f"{hn.name}-{harness.id}", address=hn.address, port=hn.port, role=role,
                    ssh_user=harness.user, credential_kind="key", host_key_type=hn.host_key_type,
                    host_key=hn.host_key_public, host_key_fingerprint=hn.host_key_fingerprint,
                    host_key_approved_at=timezone.now())
        node.seal_credential(harness.client_private_key_pem)
        node.save()
    return cluster
