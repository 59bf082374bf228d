"""A cluster with a pushable render and fake nodes registered with approved keys; its pushes run in
this process (Celery eager), with the fake transport of tests/fakes/ssh.py behind them."""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection
from django.utils import timezone

from regui.inventory.models import Node
from regui.pushes.models import PushJob, PushResult
from regui.pushes.services import effective_policy, push_job_create
from regui.registries.importing import registries_import
from regui.registries.models import Cluster
from tests.fakes.ssh import FakeNode, FakeSSH

YAML = ('mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com:5000"]\n'
        'configs:\n  "mirror.example.com:5000":\n    auth: {username: robot, password: "push-secret-7Q"}\n')


def register(cluster: Cluster, fake: FakeNode, role: str = "agent", *, approve: bool = True,
             use_sudo: bool = False) -> Node:
    """The fake node as the app knows it: its address, credential and (approved) host key. A fake node
    made with credential="..." (no key's first line) logs in with that password."""
    kind = Node.Credential.KEY if fake.credential.startswith("-----BEGIN") else Node.Credential.PASSWORD
    node = Node(cluster=cluster, name=fake.name, address=fake.address, port=fake.port, role=role,
                ssh_user=fake.username, use_sudo=use_sudo, credential_kind=kind)
    node.seal_credential(fake.credential)
    if approve:
        node.host_key_type, node.host_key = fake.host_key.type, fake.host_key.key
        node.host_key_fingerprint = fake.host_key.fingerprint
        node.host_key_approved_at = timezone.now()
    node.save()
    return node


class Fleet:
    def __init__(self, fake: FakeSSH, user: Any) -> None:
        self.fake, self.user = fake, user
        self.cluster = Cluster.objects.create(name="prod", distro="k3s")
        registries_import(cluster=self.cluster, text=YAML, replace=True)
        self.nodes: list[Node] = []

    def add(self, *roles: str, approve: bool = True, use_sudo: bool = False, **fake_node: Any) -> list[Node]:
        """Nodes named by role and rank (s1, s2, a1, ...), each with its own fake node."""
        added = []
        for role in roles:
            name = f"{role[0]}{sum(n.role == role for n in [*self.nodes, *added]) + 1}"
            added.append(register(self.cluster, self.fake.node(name, **fake_node), role, approve=approve,
                                  use_sudo=use_sudo))
        self.nodes += added
        return added

    def __getitem__(self, name: str) -> FakeNode:
        return next(n for n in self.fake.nodes.values() if n.name == name)

    def push(self, nodes: list[Node] | None = None, restart: bool = True, kind: str = "push", **choices: Any) -> PushJob:
        """Create the job; Celery runs it eagerly, here, before this returns. `choices`: the push's
        rolling policy where it differs from the cluster's (agents_at_once="2", max_failures=1, ...)."""
        job = push_job_create(cluster=self.cluster, user=self.user, nodes=nodes, restart=restart, kind=kind,
                              policy=effective_policy(self.cluster, choices))
        job.refresh_from_db()
        # Queued instead of run would mean a worker somewhere gets it: fail here, not by a timeout.
        assert not job.is_active, f"job {job.pk} was queued, not run in this process (Celery eager mode)"
        return job

    def push_in_thread(self, **kwargs: Any) -> PushThread:
        thread = PushThread(self, kwargs)
        thread.start()
        return thread

    @staticmethod
    def results(job: PushJob) -> dict[str, PushResult]:
        return {r.node_name: r for r in job.results.all()}


class PushThread(threading.Thread):
    """A push started beside the test (or beside another push); `join()` returns its finished job."""

    def __init__(self, fleet: Fleet, kwargs: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.fleet, self.kwargs = fleet, kwargs
        self.job: PushJob | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.job = self.fleet.push(**self.kwargs)
        except BaseException as exc:  # handed to join(), so the test fails with it
            self.error = exc
        finally:
            connection.close()

    def join(self, timeout: float | None = 60) -> PushJob:  # type: ignore[override]
        super().join(timeout)
        if self.is_alive():
            raise AssertionError(f"the push did not finish within {timeout} s")
        if self.error:
            raise self.error
        assert self.job is not None
        return self.job
