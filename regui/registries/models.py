from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

from regui.audit.models import Audited, ObjectType
from regui.core import sealing

from .draft import HOST_MAX, PATH_MAX, USERNAME_MAX


class Cluster(Audited):
    class Distro(models.TextChoices):
        K3S = "k3s", "K3s"
        RKE2 = "rke2", "RKE2"

    name = models.SlugField(max_length=63, unique=True)
    distro = models.CharField(max_length=8, choices=Distro.choices, default=Distro.K3S)
    description = models.TextField(blank=True)
    # The agent flags that change what K3s generates from registries.yaml (hosts.toml), for every node
    # unless the node says otherwise (its own setting, or its K3s config file, which wins).
    disable_default_registry_endpoint = models.BooleanField(
        default=False, verbose_name="--disable-default-registry-endpoint",
        help_text="The nodes run K3s with this flag: containerd tries only the mirrors' endpoints, never the "
                  "registry itself.")
    embedded_registry = models.BooleanField(
        default=False, verbose_name="--embedded-registry",
        help_text="The servers run K3s with the embedded registry (Spegel): every node tries its peers first.")
    # Not an agent flag: K3s derives it from --service-cidr (Control.Loopback), the same on every node.
    ipv6_primary = models.BooleanField(
        default=False, verbose_name="Service network is IPv6 first",
        help_text="Dual-stack with an IPv6 first --service-cidr, or IPv6 only: each node's embedded registry is "
                  "then at [::1]:6443 (RKE2: [::1]:9345), not 127.0.0.1.")
    # Bumped on every save of the registries; a form posted with an older number is refused
    # instead of silently overwriting someone else's change.
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    audit_type = ObjectType.CLUSTER
    audit_fields = ("name", "distro", "description", "disable_default_registry_endpoint", "embedded_registry",
                    "ipv6_primary")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("cluster-registries", args=[self.name])

    def audit_scope(self) -> dict[str, Any]:
        return {"cluster": self}

    @property
    def registries_path(self) -> str:
        return f"/etc/rancher/{self.distro}/registries.yaml"


class SecretQuerySet(models.QuerySet):
    def usable_by(self, cluster: Cluster) -> SecretQuerySet:
        """The secrets a cluster's registries may refer to: its own and those an admin shared with it."""
        shared = Secret.shared_with.through.objects.filter(cluster_id=cluster.pk).values("secret_id")
        return self.filter(models.Q(cluster_id=cluster.pk) | models.Q(pk__in=shared))


def new_value_id() -> str:
    """A fresh identity for a secret's values (random: derived from nothing, least of all the values)."""
    return uuid.uuid4().hex


class Secret(Audited):
    """A credential or TLS key pair. Its values go to the nodes of every cluster that may use it:
    the owning cluster, and the clusters an admin shared it with (see the README's Security)."""

    class Kind(models.TextChoices):
        BASIC = "basic", "HTTP Basic Auth"
        RKE_AUTH = "rke_auth", "RKE Auth Config"
        TLS = "tls", "TLS Certificate"

    # Which value fields each kind seals; anything else is refused by the services.
    SEALED_FIELDS = {
        Kind.BASIC: ("password",),
        Kind.RKE_AUTH: ("password", "auth", "identity_token"),
        Kind.TLS: ("private_key",),
    }

    name = models.SlugField(max_length=253, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name="Type")
    # The cluster it belongs to; None for an admin's secret (shared by an admin, or not usable yet).
    # A deleted cluster leaves its secrets to the admins rather than deleting what others may share.
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="owned_secrets")
    # Further clusters an admin let use it: their nodes receive its values too.
    shared_with = models.ManyToManyField(Cluster, blank=True, related_name="shared_secrets")
    description = models.CharField(max_length=200, blank=True)
    # Not secret: Rancher shows usernames and certificates too, and they help people pick.
    username = models.CharField(max_length=USERNAME_MAX, blank=True)
    certificate = models.TextField(blank=True)
    # The secret values as one Fernet token of a JSON object; never sent to a browser.
    sealed = models.TextField(blank=True)
    # Which sealed fields hold a value (names only), so redacted previews need no decryption.
    sealed_fields = models.CharField(max_length=100, blank=True)
    # Which values it holds, as an identity: new whenever a value is written (typed, imported, rotated),
    # even one equal to the stored value; kept when nothing is written. Sync states follow it, never the
    # bytes (core/fingerprints.py sync_key): else a guess saved in place of the value is answered.
    value_id = models.CharField(max_length=32, default=new_value_id, editable=False)
    # Who typed every value it holds now ("" when unknown, or when several people did): they know it, so
    # they may send it to any registry host; below admin, anyone else only where it goes already
    # (secret_hosts.py).
    typed_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SecretQuerySet.as_manager()
    # Whether the last secret_save of it changed anything (its page says "nothing changed" else); never stored.
    changed: bool

    class Meta:
        ordering = ["name"]

    audit_type = ObjectType.SECRET
    # Values never: only that they changed (see the services). Sharing is recorded by the services.
    audit_fields = ("name", "kind", "cluster", "description", "username", "certificate")
    audit_digests = frozenset({"certificate"})
    # The sealed values an entry says changed: the secret form's labels.
    audit_labels = {"identity_token": "Identity Token", "private_key": "Private Key"}

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("secret-history", args=[self.name])

    def audit_scope(self) -> dict[str, Any]:
        return {"secret": self}

    @property
    def label(self) -> str:
        if self.kind == self.Kind.TLS:
            return f"{self.name} (TLS Certificate)"
        user = f": {self.username}" if self.username else ""
        return f"{self.name} ({self.get_kind_display()}{user})"

    def unseal(self) -> dict[str, str]:
        return sealing.unseal(self.sealed, f"the secret {self.name}") or {}

    def seal(self, values: dict[str, str]) -> None:
        clean = {k: v for k, v in values.items() if v}
        self.sealed = sealing.seal(clean)
        self.sealed_fields = ",".join(sorted(clean))

    def has_value(self, field: str) -> bool:
        return field in self.sealed_fields.split(",")


class Mirror(Audited):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="mirrors")
    position = models.PositiveIntegerField(default=0)
    hostname = models.CharField(max_length=HOST_MAX)
    # Ordered: the list order is the order containerd tries them in.
    endpoints = models.JSONField(default=list, blank=True, verbose_name="Mirror Endpoints")
    # Ordered list of [pattern, replacement] pairs.
    rewrites = models.JSONField(default=list, blank=True, verbose_name="Rewrites")

    class Meta:
        ordering = ["cluster", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "hostname"], name="unique_mirror_hostname"),
        ]

    audit_type = ObjectType.MIRROR
    audit_fields = ("endpoints", "rewrites")
    audit_key_field = "hostname"

    def __str__(self) -> str:
        return self.hostname

    def audit_scope(self) -> dict[str, Any]:
        return {"cluster": self.cluster}


class RegistryConfig(Audited):
    """One `configs` entry: TLS and credentials for a registry host[:port] (or `*`)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="configs")
    position = models.PositiveIntegerField(default=0)
    hostname = models.CharField(max_length=HOST_MAX)
    # verbose_name: the Registries page's labels (Rancher's), which history shows for these fields.
    auth_secret = models.ForeignKey(
        Secret, null=True, blank=True, on_delete=models.PROTECT, related_name="auth_uses", verbose_name="Authentication"
    )
    tls_secret = models.ForeignKey(
        Secret, null=True, blank=True, on_delete=models.PROTECT, related_name="tls_uses", verbose_name="TLS Secret"
    )
    ca_bundle = models.TextField(blank=True, verbose_name="CA Cert Bundle")
    insecure_skip_verify = models.BooleanField(default=False, verbose_name="Skip TLS Verifications")
    # Material that already lives on the nodes (paths), as in hand-written files.
    ca_file = models.CharField(max_length=PATH_MAX, blank=True, verbose_name="CA file path")
    cert_file = models.CharField(max_length=PATH_MAX, blank=True, verbose_name="Client certificate path")
    key_file = models.CharField(max_length=PATH_MAX, blank=True, verbose_name="Client key path")
    # An imported `auth: {}` or `tls: {}` still matters to K3s (presence writes a CRI table / TLS block).
    empty_auth = models.BooleanField(default=False, verbose_name="Empty auth block")
    empty_tls = models.BooleanField(default=False, verbose_name="Empty TLS block")

    class Meta:
        ordering = ["cluster", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "hostname"], name="unique_config_hostname"),
        ]

    audit_type = ObjectType.REGISTRY_CONFIG
    audit_fields = ("auth_secret", "tls_secret", "ca_bundle", "insecure_skip_verify", "ca_file", "cert_file",
                    "key_file", "empty_auth", "empty_tls")
    audit_digests = frozenset({"ca_bundle"})
    audit_key_field = "hostname"

    def __str__(self) -> str:
        return self.hostname

    def audit_scope(self) -> dict[str, Any]:
        return {"cluster": self.cluster}


class UnsavedEdits(models.Model):
    """A user's edits of a cluster's Registries page that are not saved yet, kept while they type so
    that leaving the page (a link, Back, a closed tab) loses nothing: the page offers them back.

    Never a password: the page does not send typed passwords here, and the service drops any that
    come (see unsaved.py). Not audited: nothing here reaches a node until it is saved."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="unsaved_edits")
    # The revision the page showed when the edits began: a later save by someone else is said so.
    base_revision = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "cluster"], name="unique_unsaved_edits_per_user"),
        ]

    def __str__(self) -> str:
        return f"unsaved edits of {self.cluster_id} by {self.user_id}"
