from __future__ import annotations

from django.db import models


class WorkerBeat(models.Model):
    """A running Celery worker's latest sign of life (written by regui/core/heartbeat.py)."""

    name = models.CharField(max_length=255, unique=True)  # node name and pid: one row per worker process
    broker = models.CharField(max_length=500)  # where it reads tasks from, password masked
    queues = models.JSONField(default=list)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    # When its heartbeats resumed after failing (the database away); None if none failed since it started.
    back_at = models.DateTimeField(null=True, blank=True)
    # [[state, task name, args], ...]: what it runs ("active") and holds for later ("reserved").
    tasks = models.JSONField(default=list)

    def __str__(self) -> str:
        return self.name
