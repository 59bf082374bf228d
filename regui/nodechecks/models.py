"""What regui last learnt by looking at a node's live K3s configuration: the hosts.toml files K3s
wrote (read back after a push and on demand) and the pull tests run there."""

from __future__ import annotations

from typing import Any

from django.db import models

from regui.inventory.models import Node
from regui.pushes.models import PushJob


class HostsReadback(models.Model):
    """The last read-back of one node's certs.d: one row per node, replaced by each new read-back."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "reading"
        AGREES = "agrees", "K3s agrees"
        DIFFERS = "differs", "differs"
        PENDING = "pending", "restart pending"
        FAILED = "failed", "failed"

    class Trigger(models.TextChoices):
        PUSH = "push", "after a push"
        MANUAL = "manual", "on demand"

    ACTIVE = (State.QUEUED, State.RUNNING)

    node = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="hosts_readback")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    trigger = models.CharField(max_length=8, choices=Trigger.choices, default=Trigger.MANUAL)
    job = models.ForeignKey(PushJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The cluster revision whose render regui compared with, and the flags it used (with their source).
    revision = models.PositiveIntegerField(null=True, blank=True)
    flags = models.JSONField(default=dict, blank=True)
    # One entry per certs.d directory: {"name", "state", "note", "lines": [[kind, text, old_no, new_no]]}.
    dirs = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"hosts.toml read-back of {self.node_id}: {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def differing(self) -> list[dict[str, Any]]:
        return [d for d in self.dirs if d.get("state") not in ("same", "hand_made")]


class PullTest(models.Model):
    """One "Test a pull" on a node: what its pull command did, next to regui's prediction."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "pulling"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    class Tool(models.TextChoices):
        AUTO = "auto", "whichever the node has (ctr first)"
        CTR = "ctr", "the distro's ctr"
        CRICTL = "crictl", "crictl"

    ACTIVE = (State.QUEUED, State.RUNNING)
    KEPT = 5  # tests kept per node

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="pull_tests")
    image = models.CharField(max_length=512)
    keep = models.BooleanField(default=False)
    tool = models.CharField(max_length=8, choices=Tool.choices, default=Tool.AUTO)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    requested_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What the node did.
    used_tool = models.CharField(max_length=8, blank=True)
    command = models.CharField(max_length=300, blank=True)
    pulled = models.BooleanField(null=True)
    served_by = models.CharField(max_length=2000, blank=True)
    image_outcome = models.CharField(max_length=16, blank=True)
    output = models.TextField(blank=True)  # the pull command's last lines
    # Against regui's prediction ("Explain a pull" for the node's flags).
    agreement = models.CharField(max_length=8, blank=True)  # agrees | differs | unknown
    agreement_text = models.TextField(blank=True)
    rows = models.JSONField(default=list, blank=True)
    flags = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"pull test of {self.image} on {self.node_id}: {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE


class SettingsRead(models.Model):
    """The last "Read settings from a server" of a cluster: what one approved server node said about the
    settings regui's engine depends on (one row per cluster, replaced by each new read)."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "reading"
        DONE = "done", "read"
        FAILED = "failed", "failed"

    ACTIVE = (State.QUEUED, State.RUNNING)

    cluster = models.OneToOneField("registries.Cluster", on_delete=models.CASCADE, related_name="settings_read")
    node = models.ForeignKey(Node, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    node_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    requested_by_name = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {setting: {"value": true | false | null (not read), "source": "where it was read, or why not"}}
    found = models.JSONField(default=dict, blank=True)
    cluster_ip = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"settings read of cluster {self.cluster_id}: {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE
