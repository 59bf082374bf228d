"""Shared SSH credentials: one private key (with an optional passphrase) or password that many nodes
log in with, made and rotated by admins only. Its value is write-only and sealed like every secret."""

from __future__ import annotations

from typing import Any

from django.db import models

from regui.audit.models import Audited, ObjectType
from regui.core import sealing
from regui.inventory.models import Node

AUDIT_TYPE = ObjectType.SSH_CREDENTIAL


class SharedCredential(Audited):
    class Kind(models.TextChoices):
        KEY = "key", "Private key"
        PASSWORD = "password", "Password"

    name = models.SlugField(max_length=63, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.KEY)
    # {"v": key or password, "passphrase": "..."} as one Fernet token; never shown.
    sealed = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    rotated_by = models.CharField(max_length=150, blank=True)

    sealed_label = "shared SSH credential"
    audit_type = AUDIT_TYPE
    audit_fields = ("name", "kind")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def seal_value(self, value: str, passphrase: str = "") -> None:
        self.sealed = sealing.seal({"v": value, "passphrase": passphrase})

    def unseal_value(self) -> tuple[str, str]:
        data: dict[str, Any] = sealing.unseal(self.sealed, f"the shared SSH credential {self.name}") or {}
        return str(data.get("v", "")), str(data.get("passphrase", ""))


class NodeCredential(models.Model):
    """That a node logs in with a shared credential instead of its own, and who chose that: the
    choice counts like an address change for the two-person rule (trust.connect_refusal)."""

    node = models.OneToOneField(Node, on_delete=models.CASCADE, related_name="shared_credential")
    credential = models.ForeignKey(SharedCredential, on_delete=models.PROTECT, related_name="uses")
    chosen_by = models.CharField(max_length=150, blank=True)
    chosen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.node} uses {self.credential}"
