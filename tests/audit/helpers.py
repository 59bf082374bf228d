"""Shared by the history and revision view tests: one more save of a cluster's registries."""

from __future__ import annotations

from regui.audit.context import acting
from regui.registries.models import Cluster


def edit_endpoint(cluster: Cluster, url: str, user=None, message: str = "") -> None:
    from regui.registries.selectors import draft_from_cluster
    from regui.registries.services import registries_save

    cluster.refresh_from_db()
    draft = draft_from_cluster(cluster)
    draft.mirrors[0].endpoints[0].url = url
    draft.message = message
    with acting(user):
        registries_save(cluster=cluster, draft=draft, user=user)
