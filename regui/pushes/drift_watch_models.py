"""The drift watch's settings and state per cluster (logic in drift_watch.py)."""

from __future__ import annotations

from django.db import models

from regui.registries.models import Cluster


class DriftWatch(models.Model):
    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="drift_watch")
    interval_minutes = models.PositiveIntegerField(
        "check every (minutes)", default=0, help_text="0 turns the periodic drift check off.")
    webhook_url = models.URLField("webhook URL", blank=True, max_length=500,
                                  help_text="Receives a JSON POST when a node's state changes.")
    email_recipients = models.TextField("email to", blank=True,
                                        help_text="Addresses, separated by commas or new lines.")
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_job = models.ForeignKey("pushes.PushJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    collected_job_id = models.BigIntegerField(null=True, blank=True)
    # {node name: "in_sync" | "drifted" | "unreachable" | "failed"} as of the last collected job.
    node_states = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"drift watch of {self.cluster}"

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in self.email_recipients.replace("\n", ",").split(",") if a.strip()]
