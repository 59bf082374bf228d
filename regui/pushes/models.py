from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import timezone

from regui.audit.models import JobRecord, ObjectType
from regui.inventory.models import Node
from regui.registries.models import Cluster

OUTPUT_CAP = 64 * 1024
# Who starts the drift watch's periodic checks (no username holds a space). Such a job records
# history only for what changed (drift_watch.collect), never an entry per run and node.
DRIFT_WATCH_ACTOR = "drift watch"


class PushJob(JobRecord):
    class Kind(models.TextChoices):
        PUSH = "push", "Push"
        DRIFT = "drift", "Drift check"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        REFUSED = "refused", "refused"
        FAILED = "failed", "failed"  # an error inside the job ended it (the message says which)
        INTERRUPTED = "interrupted", "interrupted"  # the worker running it stopped mid-job

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="push_jobs")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PUSH)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    restart = models.BooleanField(default=True)
    # The rolling policy it runs with (plan.Policy as a dict), chosen when it was created.
    policy = models.JSONField(default=dict, blank=True)
    # The job this one re-runs the unfinished nodes of, or re-reads the nodes of after an interruption.
    origin = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followups")
    # Progress through its plan: the step running, its chunks not finished yet, and a pause before the next.
    step = models.PositiveIntegerField(default=0)
    chunks_left = models.IntegerField(default=0)
    paused_until = models.DateTimeField(null=True, blank=True)
    # sha256 over every file the job writes (names and contents): each chunk renders the cluster itself
    # and pushes only what the job started with.
    files_digest = models.CharField(max_length=64, blank=True)
    # files.render_digest of the redacted render that passed the checks when the job was created.
    checked_render = models.CharField(max_length=64, blank=True)
    revision = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    # The confirmation page's token (joining.py): that page's POST sent again lands on this job.
    confirm_token = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["cluster", "confirm_token"], name="unique_push_confirm_token",
                                               condition=~models.Q(confirm_token=""))]

    audit_type = ObjectType.PUSH_JOB

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} of {self.cluster}"

    def get_absolute_url(self) -> str:
        return reverse("job-detail", args=[self.pk])

    def audit_scope(self) -> dict[str, Any]:
        return {"cluster": self.cluster}

    @property
    def pausing(self) -> bool:
        """Pausing before its next step, the pause still ahead: a worker killed in a pause leaves
        `paused_until` behind, and a page must not go on saying it pauses until a time gone by."""
        return bool(self.is_active and self.paused_until and self.paused_until > timezone.now())

    @property
    def periodic(self) -> bool:
        """A drift check the drift watch started (not a person)."""
        return self.kind == self.Kind.DRIFT and self.created_by_id is None and self.created_by_name == DRIFT_WATCH_ACTOR


class PushChunk(models.Model):
    """Part of a job's step, run as one task: several workers share a large step, and the heartbeat
    of the worker that runs it (`worker`) tells whether it is still running."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        INTERRUPTED = "interrupted", "interrupted"

    job = models.ForeignKey(PushJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    step = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    worker = models.CharField(max_length=255, blank=True)  # its WorkerBeat name, once it runs
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"], name="unique_push_chunk")]

    def __str__(self) -> str:
        return f"chunk {self.index} of job {self.job_id}: {self.status}"


class PushPolicy(models.Model):
    """A cluster's default rolling policy; each push may choose otherwise (see plan.Policy). Changes
    are recorded in the cluster's history."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, primary_key=True, related_name="push_policy")
    agents_at_once = models.CharField(
        max_length=8, blank=True, verbose_name="Agents at once",
        help_text="A number, or a percentage of the agents pushed (25%). Empty: REGUI_PUSH_CONCURRENCY.")
    max_failures = models.PositiveIntegerField(
        default=0, blank=True, verbose_name="Stop after failures",
        help_text="Once this many nodes failed, the push stops: the nodes not reached yet are skipped. 0: never.")
    pause_seconds = models.PositiveIntegerField(
        default=0, blank=True, verbose_name="Pause between batches (s)",
        help_text="Seconds to wait after a server or batch that restarted, before the next one.")
    ready_gate = models.BooleanField(
        default=False, verbose_name="Wait for Ready",
        help_text="After a restart, also wait until Kubernetes reports the node Ready (kubectl on a server).")

    AUDIT_FIELDS = ("agents_at_once", "max_failures", "pause_seconds", "ready_gate")

    def __str__(self) -> str:
        return f"push policy of {self.cluster_id}"


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
        # A drift check's: the node holds what regui last wrote there, but the registries were saved since.
        OUT_OF_DATE = "out_of_date", "out of date"
        INTERRUPTED = "interrupted", "interrupted"

    FINAL = {Status.UNCHANGED, Status.CHANGED, Status.FAILED, Status.UNREACHABLE, Status.SKIPPED,
             Status.IN_SYNC, Status.DRIFTED, Status.OUT_OF_DATE, Status.INTERRUPTED}
    # Not pushed to the end: what "Re-run unfinished nodes" takes again. Not "running": in a job that
    # has ended, such a node is still being pushed by a live worker (its chunk outlives the job).
    UNFINISHED = (Status.PENDING, Status.SKIPPED, Status.INTERRUPTED)
    # Pushed and failed: what a job page's "Push again to the failed nodes" takes (through the confirmation).
    FAILED_HERE = (Status.FAILED, Status.UNREACHABLE)

    # What a push learnt of its node, written with the result in one transaction; never stored here.
    node_update: dict[str, Any]
    # The node's clock just before its restart (for the Ready gate); never stored here either.
    restart_epoch: int | None

    job = models.ForeignKey(PushJob, on_delete=models.CASCADE, related_name="results")
    node = models.ForeignKey(Node, null=True, on_delete=models.SET_NULL, related_name="push_results")
    node_name = models.CharField(max_length=63)
    role = models.CharField(max_length=8)
    # Where the node is in the job's plan: its step (a server, or a batch of agents) and chunk (task).
    step = models.PositiveIntegerField(default=0)
    chunk = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    sha256_before = models.CharField(max_length=64, blank=True)
    sha256_after = models.CharField(max_length=64, blank=True)
    # What pages show of the file before and after (core/fingerprints.py): its sync key when regui knows
    # it, else its sha256. Never compared by bytes alone: a forced write of equal bytes shows two.
    key_before = models.CharField(max_length=64, blank=True)
    key_after = models.CharField(max_length=64, blank=True)
    restarted = models.BooleanField(default=False)
    # When the Ready gate began waiting for this node to report Ready (the job page names those waiting).
    ready_since = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)
    output = models.TextField(blank=True)
    # The jump host the push connected through ("" directly), as it was then: the node's may change since.
    via = models.CharField(max_length=63, blank=True)

    class Meta:
        ordering = ["step", "-role", "node_name"]

    def __str__(self) -> str:
        return f"{self.node_name}: {self.status}"


from .drift_watch_models import DriftWatch  # noqa: E402,F401  (its own module; registered with the app here)
