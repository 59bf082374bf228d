from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

from regui.audit.models import Audited, ObjectType
from regui.registries.draft import HOST_MAX
from regui.registries.models import Cluster


class RegistryTest(Audited):
    """One "Test" of a registry from the worker: each endpoint a pull tries, in order, step by step.

    Words and statuses only: `reports` holds what each step saw (never a secret, a token or anything
    derived from one), so the page, the command and the history may show all of it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        PASSED = "passed", "works"
        FAILED = "failed", "fails"
        REFUSED = "refused", "not tested"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="registry_tests")
    registry = models.CharField(max_length=HOST_MAX)
    endpoint = models.CharField(max_length=2048, blank=True)  # one endpoint's API root; "" for all, in pull order
    image = models.CharField(max_length=512, blank=True)  # as typed: resolved on the registry; "" for none
    revision = models.PositiveIntegerField(null=True, blank=True)  # of the saved configuration tested
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    summary = models.TextField(blank=True)
    # [{label, url, outcome, summary, ms, steps: [{what, outcome, text, ms}]}] in pull order.
    reports = models.JSONField(default=list, blank=True)
    notes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_by_name = models.CharField(max_length=150, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    audit_type = ObjectType.REGISTRY_TEST

    def __str__(self) -> str:
        return f"test #{self.pk} of {self.registry}"

    def get_absolute_url(self) -> str:
        return reverse("registry-test-detail", args=[self.pk])

    def audit_scope(self) -> dict[str, Any]:
        return {"cluster": self.cluster}

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None
