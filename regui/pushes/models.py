from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

from regui.audit.models import Audited, ObjectType
from regui.inventory.models import Node
from regui.registries.models import Cluster

OUTPUT_CAP = 64 * 1024


class PushJob(Audited):
    class Kind(models.TextChoices):
        PUSH = "push", "Push"
        DRIFT = "drift", "Drift check"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        REFUSED = "refused", "refused"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="push_jobs")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PUSH)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    restart = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_by_name = models.CharField(max_length=150, blank=True)
    # The request that started the job: the worker's history entries join it.
    request_id = models.CharField(max_length=36, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    audit_type = ObjectType.PUSH_JOB

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} of {self.cluster}"

    def get_absolute_url(self) -> str:
        return reverse("job-detail", args=[self.pk])

    def audit_scope(self) -> dict[str, Any]:
        return {"cluster": self.cluster}

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class PushResult(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        RUNNING = "running", "running"
        UNCHANGED = "unchanged", "unchanged"
        CHANGED = "changed", "changed"
        FAILED = "failed", "failed"
        UNREACHABLE = "unreachable", "unreachable"
        SKIPPED = "skipped", "skipped"
        IN_SYNC = "in_sync", "in sync"
        DRIFTED = "drifted", "drifted"

    FINAL = {Status.UNCHANGED, Status.CHANGED, Status.FAILED, Status.UNREACHABLE, Status.SKIPPED,
             Status.IN_SYNC, Status.DRIFTED}

    # What a push learnt of its node, written with the result in one transaction; never stored here.
    node_update: dict[str, Any]

    job = models.ForeignKey(PushJob, on_delete=models.CASCADE, related_name="results")
    node = models.ForeignKey(Node, null=True, on_delete=models.SET_NULL, related_name="push_results")
    node_name = models.CharField(max_length=63)
    role = models.CharField(max_length=8)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    sha256_before = models.CharField(max_length=64, blank=True)
    sha256_after = models.CharField(max_length=64, blank=True)
    restarted = models.BooleanField(default=False)
    message = models.TextField(blank=True)
    output = models.TextField(blank=True)

    class Meta:
        ordering = ["-role", "node_name"]

    def __str__(self) -> str:
        return f"{self.node_name}: {self.status}"


from .drift_watch_models import DriftWatch  # noqa: E402,F401  (its own module; registered with the app here)
