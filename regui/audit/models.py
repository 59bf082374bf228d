from __future__ import annotations

from django.conf import settings
from django.db import models


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

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_constraint=False)
    # Copied as text so the entry still names the person after the account is deleted.
    actor_name = models.CharField(max_length=150, blank=True, db_index=True)
    request_id = models.CharField(max_length=36, blank=True, db_index=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=32, db_index=True)
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


class Revision(models.Model):
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
    # The saved structure (secrets by reference only), enough to restore it.
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["cluster", "-number"]
        constraints = [models.UniqueConstraint(fields=["cluster", "number"], name="unique_revision_number")]

    def __str__(self) -> str:
        return f"{self.cluster} r{self.number}"
