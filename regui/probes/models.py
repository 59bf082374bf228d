from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse

from regui.audit.models import JobRecord, ObjectType
from regui.registries.draft import HOST_MAX
from regui.registries.models import Cluster


class RegistryTest(JobRecord):
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

    class Meta:
        ordering = ["-created_at", "-pk"]

    audit_type = ObjectType.REGISTRY_TEST

    def __str__(self) -> str:
        return f"test #{self.pk} of {self.registry}"

    def get_absolute_url(self) -> str:
        return reverse("registry-test-detail", args=[self.pk])

    def audit_scope(self) -> dict[str, Any]:
        return {"cluster": self.cluster}
