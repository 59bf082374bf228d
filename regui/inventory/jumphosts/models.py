"""Jump hosts (bastions): a host that regui's SSH goes through to reach nodes it cannot reach directly.

A jump host has its own address, SSH user, shared credential and pinned host key (approved like a
node's). A cluster may name one for all its nodes; a node may name its own, or none, instead. Making
one and choosing one route a credential to a host, so only admins do either (services.py)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse

from regui.audit import context as audit_context
from regui.audit.models import Audited, ObjectType
from regui.inventory.credentials.models import SharedCredential
from regui.inventory.models import Node
from regui.registries.models import Cluster


class JumpHost(Audited):
    name = models.SlugField(max_length=63, unique=True)
    address = models.CharField(max_length=253, verbose_name="Address",
                               help_text="Host name or IP address regui connects to; it connects on to the nodes.")
    port = models.PositiveIntegerField(default=22, verbose_name="Port")
    ssh_user = models.CharField(max_length=64, default="root", verbose_name="SSH user")
    credential = models.ForeignKey(SharedCredential, on_delete=models.PROTECT, related_name="jump_hosts",
                                   verbose_name="Credential")
    labels = models.JSONField(default=dict, blank=True, verbose_name="Labels")
    created_at = models.DateTimeField(auto_now_add=True)

    # Its pinned host key, approved like a node's (trust.approval_refusal); nothing goes through it before.
    host_key_type = models.CharField(max_length=64, blank=True)
    host_key = models.TextField(blank=True)
    host_key_fingerprint = models.CharField(max_length=100, blank=True)
    host_key_approved_at = models.DateTimeField(null=True, blank=True)
    host_key_approved_by = models.CharField(max_length=150, blank=True)
    address_changed_by = models.CharField(max_length=150, blank=True)
    scanned_key_type = models.CharField(max_length=64, blank=True)
    scanned_key = models.TextField(blank=True)
    scanned_fingerprint = models.CharField(max_length=100, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)

    # The host its key is trusted for: another address or port is another host (see `save`).
    TARGET_FIELDS = ("address", "port")
    _KEY_FIELDS = ("host_key_type", "host_key", "host_key_fingerprint", "host_key_approved_at",
                   "host_key_approved_by", "scanned_key_type", "scanned_key", "scanned_fingerprint", "scanned_at",
                   "address_changed_by")

    audit_type = ObjectType.JUMP_HOST
    audit_fields = ("name", "address", "port", "ssh_user", "credential", "labels")

    _saved_target: tuple[Any, ...] | None = None

    class Meta:
        ordering = ["name"]

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> JumpHost:
        jump = super().from_db(db, field_names, values)
        jump._saved_target = jump._target()
        return jump

    def _target(self) -> tuple[Any, ...] | None:
        values = tuple(self.__dict__.get(f) for f in self.TARGET_FIELDS)
        return None if None in values else values

    @property
    def target_changed(self) -> bool:
        return self._saved_target is not None and self._target() != self._saved_target

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Whatever path moves a jump host, the approved key of the old address must not vouch for the new one.
        moved = self.target_changed
        if moved or (self._state.adding and not self.address_changed_by):
            self.address_changed_by = audit_context.current().username
        if moved:
            self.host_key_type = self.host_key = self.host_key_fingerprint = self.host_key_approved_by = ""
            self.scanned_key_type = self.scanned_key = self.scanned_fingerprint = ""
            self.host_key_approved_at = self.scanned_at = None
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *self.TARGET_FIELDS, *self._KEY_FIELDS}
        super().save(*args, **kwargs)
        self._saved_target = self._target()

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("jump-host-detail", args=[self.name])

    @property
    def has_approved_key(self) -> bool:
        return bool(self.host_key and self.host_key_approved_at)

    @property
    def labels_text(self) -> str:
        return ", ".join(f"{k}={v}" if v else k for k, v in sorted(self.labels.items()))


class ClusterJumpHost(models.Model):
    """The jump host every node of the cluster is reached through (unless the node names its own)."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="jump_host_link")
    jump_host = models.ForeignKey(JumpHost, on_delete=models.PROTECT, related_name="cluster_links")
    chosen_by = models.CharField(max_length=150, blank=True)
    chosen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.cluster} through {self.jump_host}"


class NodeJumpHost(models.Model):
    """A node's own choice, over its cluster's: a jump host, or none (`jump_host` None: directly)."""

    node = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="jump_host_link")
    jump_host = models.ForeignKey(JumpHost, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="node_links")
    chosen_by = models.CharField(max_length=150, blank=True)
    chosen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.node} through {self.jump_host or 'no jump host'}"
