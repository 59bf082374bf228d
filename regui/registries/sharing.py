"""Which clusters may use a secret, and who may change that.

A secret's values reach the nodes of every cluster that may use it: the cluster that owns it and the
clusters an admin shared it with. Operators make secrets for one cluster and change them there;
sharing, and changing a secret that other clusters' nodes also receive, is an admin's.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from regui.core.roles import ADMIN, OPERATOR, has_role

from .draft import Errors
from .models import Cluster, RegistryConfig, Secret


def secret_clusters(secret: Secret) -> set[int]:
    """Ids of the clusters that may use the secret."""
    shared = {c.pk for c in secret.shared_with.all()} if secret.pk else set()  # uses a prefetch
    return shared | ({secret.cluster_id} if secret.cluster_id else set())


def secret_change_refusal(user: Any, secret: Secret) -> str:
    """Why `user` may not change or delete the secret; "" when they may. None is the system (commands)."""
    if user is None or has_role(user, ADMIN):
        return ""
    if not has_role(user, OPERATOR):
        return "Changing secrets needs the operator role."
    if secret.cluster_id is None:
        return "Only an admin can change a secret that belongs to no cluster."
    if secret_clusters(secret) != {secret.cluster_id}:
        return ("Only an admin can change a secret shared with other clusters: its values reach their nodes "
                "too.")
    return ""


def may_share(user: Any) -> bool:
    return user is None or has_role(user, ADMIN)


def sharing_errors(secret: Secret, owner: Cluster | None, shared: list[Cluster]) -> Errors:
    """A cluster using the secret must keep it: refuse an owner or sharing that would leave it out."""
    if not secret.pk:
        return {}
    keep = {c.pk for c in shared} | ({owner.pk} if owner else set())
    using = (Cluster.objects.filter(pk__in=RegistryConfig.objects.filter(Q(auth_secret=secret) | Q(tls_secret=secret))
                                    .values("cluster_id"))
             .exclude(pk__in=keep).order_by("name").values_list("name", flat=True))
    if not using:
        return {}
    return {"shared_with": [f"Cluster {name} uses this secret: keep it shared with {name}, or remove it there "
                            "first." for name in using]}
