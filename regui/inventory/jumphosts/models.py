"""Jump hosts (bastions): a host that regui's SSH goes through to reach nodes it cannot reach directly.

A jump host has its own address, SSH user, shared credential and pinned host key (approved like a
node's). A cluster may name one for all its nodes; a node may name its own, or none, instead. Making
one and choosing one route a credential to a host, so only admins do either (services.py)."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from regui.audit.models import ObjectType
from regui.inventory.credentials.models import SharedCredential
from regui.inventory.models import Node
from regui.inventory.pinning import PinnedHost
from regui.registries.models import Cluster


class JumpHost(PinnedHost):
    name = models.SlugField(max_length=63, unique=True)
    address = models.CharField(max_length=253, verbose_name="Address",
                               help_text="Host name or IP address regui connects to; it connects on to the nodes.")
    port = models.PositiveIntegerField(default=22, verbose_name="Port")
    ssh_user = models.CharField(max_length=64, default="root", verbose_name="SSH user")
    credential = models.ForeignKey(SharedCredential, on_delete=models.PROTECT, related_name="jump_hosts",
                                   verbose_name="Credential")
    labels = models.JSONField(default=dict, blank=True, verbose_name="Labels")
    created_at = models.DateTimeField(auto_now_add=True)

    # Its pinned host key is approved like a node's (jump_approval_refusal); nothing goes through it
    # before. Another address or port is another host (PinnedHost.save).
    TARGET_FIELDS = ("address", "port")

    audit_type = ObjectType.JUMP_HOST
    audit_fields = ("name", "address", "port", "ssh_user", "credential", "labels")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("jump-host-detail", args=[self.name])

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
