"""What the node page's checks section shows: the last read-back, the last pull tests, the flags."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from regui.audit.diff import UnifiedLine
from regui.inventory.models import Node
from regui.pushes.liveness import WorkerWatch

from .models import HostsReadback, PullTest
from .services import node_flags


@dataclass
class DirView:
    name: str
    state: str
    note: str
    lines: list[UnifiedLine]


@dataclass
class NodeChecks:
    node: Node
    readback: HostsReadback | None
    dirs: list[DirView]
    pulls: list[PullTest]
    flags: list[dict[str, Any]]
    flags_read: bool  # the flags come from a read of the node's config files
    waits: list[str] = field(default_factory=list)  # "No worker is answering" for what is queued

    @property
    def pull(self) -> PullTest | None:
        return self.pulls[0] if self.pulls else None

    @property
    def poll(self) -> int:
        """Seconds between the section's polls while something runs: slower while nobody takes it."""
        return 5 if self.waits else 1

    @property
    def active(self) -> bool:
        return bool((self.readback and self.readback.is_active) or (self.pull and self.pull.is_active))


def node_checks(node: Node) -> NodeChecks:
    readback = HostsReadback.objects.filter(node=node).first()
    pulls = list(PullTest.objects.filter(node=node)[:PullTest.KEPT])
    dirs = [DirView(d.get("name", ""), d.get("state", ""), d.get("note", ""),
                    [UnifiedLine(*line) for line in d.get("lines", [])])
            for d in (readback.dirs if readback else [])]
    if readback and readback.flags:
        flags, read = list(readback.flags.values()), True
    else:
        flags, read = [vars(f) for f in node_flags(node).values()], False
    checks = NodeChecks(node, readback, dirs, pulls, flags, read)
    queued = [t for t in (readback, checks.pull) if t is not None and t.state == "queued"]
    if queued:
        checks.waits = _waits([_since(t) for t in queued])
    return checks


def _since(thing: HostsReadback | PullTest) -> datetime:
    when = thing.requested_at if isinstance(thing, HostsReadback) else thing.created_at
    return when or timezone.now()


def _waits(since: list[datetime]) -> list[str]:
    now = timezone.now()
    if all(now - s < timedelta(seconds=settings.REGUI_WORKER_WAIT) for s in since):
        return []
    watch = WorkerWatch(now)
    if watch.alive:
        return ["Queued: the worker is busy with other jobs."]
    return ["No worker is answering: nothing runs until a Celery worker does. `make run` starts one beside "
            "the web server; read its log."]
