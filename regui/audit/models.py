from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse


class ObjectType(models.TextChoices):
    """What a history entry is about."""

    CLUSTER = "cluster", "cluster"
    MIRROR = "mirror", "mirror"
    REGISTRY_CONFIG = "registry_config", "registry authentication"
    SECRET = "secret", "secret"
    NODE = "node", "node"
    USER = "user", "user"
    PUSH_JOB = "push_job", "push"
    REVISION = "revision", "revision"
    REGISTRY_TEST = "registry_test", "registry test"
    SSH_CREDENTIAL = "ssh_credential", "shared SSH credential"
    JUMP_HOST = "jump_host", "jump host"


AUDITED: dict[str, type[Audited]] = {}


class Audited(models.Model):
    """A model that describes itself to history, after NetBox's ObjectChange and `snapshot()`: its
    type, the fields an entry shows (each named once, here), its label, what it belongs to and
    its page. Entries outlive their objects, so an entry copies all of this when it is written."""

    audit_type: ClassVar[str]
    audit_fields: ClassVar[tuple[str, ...]] = ()
    # Labels for keys an entry records that are not fields (sealed values, counts); fields show their
    # verbose_name, which is the form's label (regui/audit/labels.py).
    audit_labels: ClassVar[dict[str, str]] = {}
    # Fields shown by their hash: PEM material is long, and what matters is whether it changed.
    audit_digests: ClassVar[frozenset[str]] = frozenset()
    # What identifies an entry's object: the primary key, or a natural key for rows that a save
    # replaces wholesale (mirrors and configs are the same entry while their hostname is).
    audit_key_field: ClassVar[str] = "pk"

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "audit_type" in cls.__dict__:
            AUDITED[cls.audit_type] = cls

    def get_absolute_url(self) -> str:
        """Its page; "" for a kind without one (its entries link to their cluster)."""
        return ""

    def audit_label(self) -> str:
        return str(self)

    def audit_scope(self) -> dict[str, Any]:
        """The History tabs the entry shows on: `cluster`, `node` and/or `secret`."""
        return {}


class JobRecord(Audited):
    """Work a person starts (a page or a command) and a worker runs: who asked, kept by name too for
    after the account is gone; the request that asked (the worker's history entries join it); and
    when it was created, started and finished. A subclass gives its `status`, whose first steps are
    queued and running."""

    ACTIVE: ClassVar[tuple[str, ...]] = ("queued", "running")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_by_name = models.CharField(max_length=150, blank=True)
    request_id = models.CharField(max_length=36, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    status: str

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class AppendOnly(Exception):
    pass


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("audit entries cannot be changed")

    def delete(self):
        raise AppendOnly("audit entries cannot be deleted (prune_history removes old ones)")

    def prune_before(self, when) -> int:
        """The one way entries leave: retention, by age."""
        old = AuditEvent.objects.filter(time__lt=when)
        return old._raw_delete(old.db)


class AuditEvent(models.Model):
    """One recorded action. Append-only: saving an existing entry or deleting one raises."""

    class Action(models.TextChoices):
        CREATE = "create", "created"
        UPDATE = "update", "updated"
        DELETE = "delete", "deleted"
        LOGIN = "login", "logged in"
        LOGOUT = "logout", "logged out"
        LOGIN_FAILED = "login_failed", "failed to log in"
        REVEAL = "reveal", "revealed secret values"
        DOWNLOAD = "download", "downloaded registries.yaml"
        APPROVE_KEY = "approve_key", "approved a host key"
        PUSH = "push", "started a push"
        PUSH_RESULT = "push_result", "push result"
        RESTORE = "restore", "restored a revision"
        REGISTRY_TEST = "registry_test", "tested a registry"

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_constraint=False)
    # Copied as text so the entry still names the person after the account is deleted.
    actor_name = models.CharField(max_length=150, blank=True, db_index=True)
    request_id = models.CharField(max_length=36, blank=True, db_index=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=32, choices=ObjectType.choices, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    # What the entry is about, for the History tabs (plain ids: entries outlive their objects).
    cluster_id_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    cluster_name = models.CharField(max_length=63, blank=True)
    node_id_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    secret_id_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    revision = models.PositiveIntegerField(null=True, blank=True)
    # {field: [before, after]}; secret values never appear, only that they changed.
    changes = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=500, blank=True)

    objects = AuditQuerySet.as_manager()

    # Set on entries by the History pages for display; never stored.
    type_label: str
    entry_url: str
    object_url: str
    user_url: str
    cluster_url: str
    request_url: str

    class Meta:
        ordering = ["-time", "-id"]
        # The History page and each tab read newest-first within one scope: index exactly that.
        indexes = [
            models.Index(fields=["-time", "-id"], name="audit_newest_first"),
            models.Index(fields=["cluster_id_ref", "-time", "-id"], name="audit_cluster_newest"),
            models.Index(fields=["node_id_ref", "-time", "-id"], name="audit_node_newest"),
            models.Index(fields=["secret_id_ref", "-time", "-id"], name="audit_secret_newest"),
            models.Index(fields=["actor_name", "-time", "-id"], name="audit_actor_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.actor_name or 'system'} {self.action} {self.object_type} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit entries cannot be deleted")

    @property
    def action_text(self) -> str:
        """The action as History shows it. A push's bad end (failed, interrupted) is recorded as a push
        entry with the status it ended in, often by the system: it says so, not "started a push"; nor does
        a request for a push an unfinished job already does (joined to it)."""
        if self.action == self.Action.PUSH:
            if "asked_again_for" in (self.changes or {}):  # pushes/joining.py: no job of its own was made
                return "asked for a push already under way"
            status = (self.changes or {}).get("status")
            if isinstance(status, list) and status and status[-1] in ("failed", "interrupted"):
                return f"push {status[-1]}"
        return self.get_action_display()


class Revision(Audited):
    """A numbered save of a cluster's registries: what was saved, by whom, and the file's hash."""

    cluster = models.ForeignKey("registries.Cluster", on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    author_name = models.CharField(max_length=150, blank=True)
    message = models.CharField(max_length=500, blank=True)
    yaml_redacted = models.TextField()
    # sha256 of the real bytes a push writes: how a node's file is matched to a revision.
    sha256 = models.CharField(max_length=64, db_index=True)
    # The file's sync key (core/fingerprints.py): its sha256 and the identities of the secret values in
    # it. What nodes and pages match a revision by; "" for none.
    sync_key = models.CharField(max_length=64, blank=True, db_index=True)
    # The saved structure (secrets by reference only), enough to restore it.
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["cluster", "-number"]
        constraints = [models.UniqueConstraint(fields=["cluster", "number"], name="unique_revision_number")]

    audit_type = ObjectType.REVISION

    def __str__(self) -> str:
        return f"{self.cluster} r{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("cluster-revision", args=[self.cluster.name, self.number])

    def audit_scope(self) -> dict[str, Any]:
        return {"cluster": self.cluster}


class LoginThrottle(models.Model):
    """Failed logins counted for one typed username (`user:<name>`) or one client address
    (`addr:<IPv4 address or IPv6 /64>`) in the current window, and until when it is refused."""

    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
