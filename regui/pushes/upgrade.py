"""Upgrading keeps the nodes that were in sync in sync, once, without answering a guess.

regui before sync keys (core/fingerprints.py) recorded only the bytes a node holds, and its revisions
were keyed by their bytes alone (audit migration 0008). At the end of the first `migrate` after the
upgrade, each cluster whose render is still the one regui had saved before (its current revision is one
from before, with the render's sha256) gets the render's sync key:
- on that revision, so that a node holding the render shows as holding it;
- on each node regui recorded as in sync with exactly those bytes, which stays in sync.
Each other node regui recorded as in sync gets the key its bytes had before (its sha256, no identities),
as the revisions from before were keyed: it holds the revision from before with those bytes, never the
render of a secret given a value since. So no node is left in sync without a key, and a later `migrate`
finds nothing to do (one query). A cluster saved since the upgrade (its current revision is a new one,
keyed by the secret values' identities) adopts no node: its bytes may equal the render only because
someone saved a right guess. A cluster whose render fails (a secret the key ring cannot open, a render a
push would refuse) is left as it is, with a log line, and looked at again at the next `migrate`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Exists, F, OuterRef, QuerySet

from regui.audit.models import Revision
from regui.core.crypto import KeyringError
from regui.core.fingerprints import sync_key
from regui.inventory.models import Node
from regui.registries.models import Cluster
from regui.registries.snapshots import snapshot_secret_ids

from .files import RenderRefused, cluster_files, files_key

log = logging.getLogger(__name__)

# What the upgrade needs in the database: without any of them (a migrate to an earlier state) it waits.
_NEEDS = [("inventory", "Node", "last_sync_key"), ("audit", "Revision", "sync_key"),
          ("registries", "Secret", "value_id")]


def keep_nodes_in_sync(sender: Any = None, *, apps: Any = None, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """post_migrate (the pushes app's: sent once a migrate, or a flush, has ended)."""
    if using != DEFAULT_DB_ALIAS or not _migrated(apps):
        return
    todo = [pk for pk, sha, key, snapshot, legacy in _current_revisions()
            if legacy or (key == sync_key(sha, ()) and snapshot_secret_ids(snapshot or {}))]
    for cluster in Cluster.objects.filter(pk__in=todo).order_by("pk"):
        try:
            with transaction.atomic():
                _cluster_keys(cluster)
        except (KeyringError, RenderRefused) as exc:
            _skipped(cluster, str(exc))
        except Exception as exc:  # never a failed migrate; no message: it might quote anything
            _skipped(cluster, type(exc).__name__)


def _legacy_nodes() -> QuerySet[Node]:
    return Node.objects.filter(sync_state=Node.Sync.IN_SYNC, last_sync_key="").exclude(last_sha256="")


def _current_revisions() -> Iterable[tuple[int, str, str, Any, bool]]:
    """Each cluster's current revision (its cluster, sha256, sync key, snapshot) and whether the cluster
    has nodes in sync from before: one query. Its revision is from before when keyed by its bytes alone."""
    legacy = _legacy_nodes().filter(cluster=OuterRef("cluster"))
    return (Revision.objects.filter(number=F("cluster__revision")).annotate(legacy=Exists(legacy))
            .values_list("cluster_id", "sha256", "sync_key", "snapshot", "legacy"))


def _migrated(apps: Any) -> bool:
    """Whether the state the migrate left has what the upgrade reads (no query)."""
    if apps is None:
        return False
    for app, model, field in _NEEDS:
        try:
            apps.get_model(app, model)._meta.get_field(field)
        except (LookupError, FieldDoesNotExist):
            return False
    return True


def _skipped(cluster: Cluster, why: str) -> None:
    log.warning("upgrade: cluster %s keeps what it had before sync keys (its nodes show drifted until pushed; "
                "looked at again at the next migrate): %s", cluster.name, why)


def _cluster_keys(cluster: Cluster) -> None:
    files = cluster_files(cluster, check=True)
    sha, key = files[0].sha256, files_key(files)
    legacy = _legacy_nodes().filter(cluster=cluster)
    revision = cluster.revisions.filter(number=cluster.revision).first()
    if revision is not None and revision.sha256 == sha and revision.sync_key == sync_key(sha, ()):
        # Nothing written since the upgrade: the render's values are those the nodes got from regui.
        legacy.filter(last_sha256=sha).update(last_sync_key=key)
        Revision.objects.filter(pk=revision.pk, sync_key=revision.sync_key).update(sync_key=key)
    for pk, last in legacy.values_list("pk", "last_sha256"):
        Node.objects.filter(pk=pk, last_sync_key="").update(last_sync_key=sync_key(last, ()))
