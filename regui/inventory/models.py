from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse

from regui.audit import context as audit_context
from regui.audit.models import Audited, ObjectType
from regui.core import sealing
from regui.registries.models import Cluster


class Node(Audited):
    class Role(models.TextChoices):
        SERVER = "server", "Server"
        AGENT = "agent", "Agent"

    class Credential(models.TextChoices):
        KEY = "key", "Private key"
        PASSWORD = "password", "Password"

    class Sync(models.TextChoices):
        NEVER = "never", "never pushed"
        IN_SYNC = "in_sync", "in sync"
        DRIFTED = "drifted", "drifted"
        UNREACHABLE = "unreachable", "unreachable"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="nodes")
    name = models.SlugField(max_length=63)
    address = models.CharField(max_length=253, help_text="Host name or IP address the dashboard connects to.")
    port = models.PositiveIntegerField(default=22)
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.AGENT)
    ssh_user = models.CharField(max_length=64, default="root", verbose_name="SSH user")
    use_sudo = models.BooleanField(default=False, help_text="Run as root through `sudo -n` (non-root users).")
    credential_kind = models.CharField(max_length=8, choices=Credential.choices, default=Credential.KEY,
                                       verbose_name="Credential")
    # The private key or password as one Fernet token; write-only, like every secret.
    sealed = models.TextField(blank=True)
    labels = models.JSONField(default=dict, blank=True)

    # The pinned host key: nothing connects until an operator approved one.
    host_key_type = models.CharField(max_length=64, blank=True)
    host_key = models.TextField(blank=True)
    host_key_fingerprint = models.CharField(max_length=100, blank=True)
    host_key_approved_at = models.DateTimeField(null=True, blank=True)
    host_key_approved_by = models.CharField(max_length=150, blank=True)
    # Who created the node or last changed where it connects (address, port, SSH user): under
    # two-person approval they may not approve its host key themselves. "" when unknown.
    address_changed_by = models.CharField(max_length=150, blank=True)
    # The last scan, shown for approval.
    scanned_key_type = models.CharField(max_length=64, blank=True)
    scanned_key = models.TextField(blank=True)
    scanned_fingerprint = models.CharField(max_length=100, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)

    # What the node had when we last looked (push or drift check).
    sync_state = models.CharField(max_length=12, choices=Sync.choices, default=Sync.NEVER)
    last_sha256 = models.CharField(max_length=64, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_message = models.TextField(blank=True)
    # A write-only push changed the file but K3s has not read it yet.
    restart_pending = models.BooleanField(default=False)

    # The agent flags that change what K3s generates from registries.yaml, when this node's differ
    # from its cluster's (None: the cluster's). What the node's own K3s config says wins over both.
    disable_default_registry_endpoint = models.BooleanField(
        null=True, blank=True, default=None, verbose_name="--disable-default-registry-endpoint",
        help_text="This node's setting, if it differs from the cluster's. The node's K3s config file wins.")
    embedded_registry = models.BooleanField(
        null=True, blank=True, default=None, verbose_name="--embedded-registry",
        help_text="This node's setting, if it differs from the cluster's. The node's K3s config file wins.")

    # Per-node lock: which job holds the node, and since when (stale locks expire).
    lock_job = models.PositiveBigIntegerField(null=True, blank=True)
    lock_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cluster", "-role", "name"]
        constraints = [models.UniqueConstraint(fields=["cluster", "name"], name="unique_node_name")]

    # Where regui connects and as whom. A credential and a host key are trusted for these: changing
    # any of them makes it another host, so the save drops both (see `save`).
    TARGET_FIELDS = ("address", "port", "ssh_user")
    _TRUST_FIELDS = ("sealed", "host_key_type", "host_key", "host_key_fingerprint", "host_key_approved_at",
                     "host_key_approved_by", "scanned_key_type", "scanned_key", "scanned_fingerprint",
                     "scanned_at", "address_changed_by")

    sealed_label = "node credential"
    audit_type = ObjectType.NODE
    # The credential never: only that it changed (see the services).
    audit_fields = ("name", "address", "port", "role", "ssh_user", "use_sudo", "credential_kind", "labels",
                    "disable_default_registry_endpoint", "embedded_registry")

    # What the stored credential and host key were trusted for (None: not read from the database),
    # and whether a credential was entered since (for the new target).
    _saved_target: tuple[Any, ...] | None = None
    _credential_entered = False

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Node:
        node = super().from_db(db, field_names, values)
        node._saved_target = node._target()
        return node

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        fields = kwargs.get("fields") or (args[1] if len(args) > 1 else None)
        if fields is None or set(fields) & set(self.TARGET_FIELDS):
            self._saved_target = self._target()

    def _target(self) -> tuple[Any, ...] | None:
        values = tuple(self.__dict__.get(f) for f in self.TARGET_FIELDS)  # a deferred field is absent
        return None if None in values else values

    @property
    def target_changed(self) -> bool:
        """The address, port or SSH user differ from what the stored credential and key were for."""
        return self._saved_target is not None and self._target() != self._saved_target

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Here rather than in one form: whatever path points a node elsewhere, the stored password
        # or key must not follow it to a host nobody approved, nor may the old host key vouch for it.
        moved = self.target_changed
        if moved or (self._state.adding and not self.address_changed_by):
            self.address_changed_by = audit_context.current().username
        if moved:
            if not self._credential_entered:
                self.sealed = ""
            self.host_key_type = self.host_key = self.host_key_fingerprint = self.host_key_approved_by = ""
            self.scanned_key_type = self.scanned_key = self.scanned_fingerprint = ""
            self.host_key_approved_at = self.scanned_at = None
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *self.TARGET_FIELDS, *self._TRUST_FIELDS}
        super().save(*args, **kwargs)
        self._saved_target, self._credential_entered = self._target(), False

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("node-detail", args=[self.cluster.name, self.pk])

    def audit_scope(self) -> dict[str, Any]:
        return {"node": self}

    @property
    def service(self) -> str:
        distro = self.cluster.distro
        if distro == "rke2":
            return "rke2-server" if self.role == self.Role.SERVER else "rke2-agent"
        return "k3s" if self.role == self.Role.SERVER else "k3s-agent"

    @property
    def has_approved_key(self) -> bool:
        return bool(self.host_key and self.host_key_approved_at)

    @property
    def labels_text(self) -> str:
        return ", ".join(f"{k}={v}" if v else k for k, v in sorted(self.labels.items()))

    def seal_credential(self, value: str) -> None:
        self.sealed = sealing.seal({"v": value})
        self._credential_entered = True  # typed for the current target: a move keeps it

    def unseal_credential(self) -> str:
        return str((sealing.unseal(self.sealed) or {"v": ""})["v"])
