"""The drift watch's settings and state per cluster (logic in drift_watch.py)."""

from __future__ import annotations

from django.db import models

from regui.core import sealing
from regui.registries.models import Cluster

from .drift_webhook import webhook_shown


class DriftWatch(models.Model):
    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="drift_watch")
    interval_minutes = models.PositiveIntegerField(
        "check every (minutes)", default=0, help_text="0 turns the periodic drift check off.")
    # The webhook URL as one Fernet token: it often carries a token of its own (Slack's path, a
    # ?token=, user:password@). Write-only like every secret; the sender alone opens it, at send time.
    sealed = models.TextField(blank=True)
    # Its scheme://host[:port], all a page or history says of it; readable without the key ring.
    webhook_shown = models.CharField("webhook", max_length=300, blank=True)
    email_recipients = models.TextField("email to", blank=True,
                                        help_text="Addresses, separated by commas or new lines.")
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_job = models.ForeignKey("pushes.PushJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    collected_job_id = models.BigIntegerField(null=True, blank=True)
    # {node name: "in_sync" | "out_of_date" | "restart_failed" | "drifted" | "unreachable" | "failed"} as of the
    # last collected job (drift_watch.WATCHED).
    node_states = models.JSONField(default=dict, blank=True)

    sealed_label = "drift watch webhook URL"

    def __str__(self) -> str:
        return f"drift watch of {self.cluster}"

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in self.email_recipients.replace("\n", ",").split(",") if a.strip()]

    def seal_webhook(self, url: str) -> None:
        """Store a new webhook URL (an empty one removes it)."""
        self.sealed = sealing.seal({"v": url}) if url else ""
        self.webhook_shown = webhook_shown(url) if url else ""

    def unseal_webhook(self) -> str:
        """The webhook URL ("" when none); raises crypto.KeyringError when no key of the ring opens it."""
        return str((sealing.unseal(self.sealed) or {"v": ""})["v"])
