"""Heartbeats written by a test stand for Celery workers (regui/core/heartbeat.py writes real ones)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from regui.core.heartbeat import this_site_broker
from regui.core.models import WorkerBeat


def beat(*tasks: list, queues: tuple[str, ...] = (), age: float = 1, broker: str = "") -> WorkerBeat:
    """A worker that checked in `age` seconds ago, on this site's broker and queue unless told, holding
    `tasks` ([state, task name, args] each)."""
    now = timezone.now()
    return WorkerBeat.objects.create(name=f"celery@host pid {WorkerBeat.objects.count() + 1}",
                                     broker=broker or this_site_broker(),
                                     queues=list(queues or (settings.CELERY_TASK_DEFAULT_QUEUE,)),
                                     started_at=now - timedelta(hours=1), seen_at=now - timedelta(seconds=age),
                                     tasks=list(tasks))
