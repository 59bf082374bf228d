from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse

from regui.audit.models import ObjectType
from regui.core import sealing
from regui.registries.models import Cluster

from .pinning import PinnedHost


class Node(PinnedHost):
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
        # Holds what regui last wrote or confirmed there (last_sync_key), which a drift check found no
        # longer the current render: the registries were saved since. Not drift: a push sends the new file.
        # A badge compares the key itself (a save since that check, or one undone, changes the answer).
        OUT_OF_DATE = "out_of_date", "out of date"
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

    # What the node had when we last looked (push or drift check).
    sync_state = models.CharField(max_length=12, choices=Sync.choices, default=Sync.NEVER)
    last_sha256 = models.CharField(max_length=64, blank=True)
    # The sync key (core/fingerprints.py) of what regui wrote there or confirmed it holds, while its file is
    # last_sha256; "" when regui does not know which secret values the file holds.
    last_sync_key = models.CharField(max_length=64, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_message = models.TextField(blank=True)
    # A write-only push changed the file but K3s has not read it yet.
    restart_pending = models.BooleanField(default=False)
    # Of those, one whose last restart by regui failed (systemctl restart failed, or the unit did not
    # become active): said beside the badge and by the drift watch until a push restarts it.
    restart_failed = models.BooleanField(default=False)

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
    # any of them makes it another host, so the save drops both (PinnedHost.save and `moved`).
    TARGET_FIELDS = ("address", "port", "ssh_user")

    sealed_label = "node credential"
    audit_type = ObjectType.NODE
    # The credential never: only that it changed (see the services).
    audit_fields = ("name", "address", "port", "role", "ssh_user", "use_sudo", "credential_kind", "labels",
                    "disable_default_registry_endpoint", "embedded_registry")

    # Whether a credential was entered since the node was read (for the new target, if it moved).
    _credential_entered = False

    def on_move(self) -> tuple[str, ...]:
        # The stored password or key must not follow the node to a host nobody approved.
        if not self._credential_entered:
            self.sealed = ""
        return ("sealed",)

    def after_save(self) -> None:
        self._credential_entered = False

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
    def labels_text(self) -> str:
        return ", ".join(f"{k}={v}" if v else k for k, v in sorted(self.labels.items()))

    def seal_credential(self, value: str) -> None:
        self.sealed = sealing.seal({"v": value})
        self._credential_entered = True  # typed for the current target: a move keeps it

    def unseal_credential(self) -> str:
        return str((sealing.unseal(self.sealed, f"the SSH credential of node {self.name}") or {"v": ""})["v"])
