"""Upgrading: each secret from before gets a value identity of its own, and each revision from before a
sync key (its bytes alone, which no render holding a secret's value shares)."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection

from regui.core.fingerprints import sync_key

pytestmark = pytest.mark.django_db(transaction=True)


def test_secrets_and_revisions_from_before_get_their_own_identities(cluster):
    from django.db.migrations.executor import MigrationExecutor

    before = [("registries", "0007_cluster_ipv6_primary"), ("audit", "0007_jump_host_choice")]
    after = [("registries", "0008_secret_value_id"), ("audit", "0008_revision_sync_key")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        apps = executor.loader.project_state(before).apps
        for name in ("one", "two", "three"):
            apps.get_model("registries", "Secret").objects.create(name=name, kind="basic", cluster_id=cluster.pk)
        sha = hashlib.sha256(b"mirrors: {}\n").hexdigest()
        apps.get_model("audit", "Revision").objects.create(cluster_id=cluster.pk, number=1, yaml_redacted="",
                                                           sha256=sha)
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        apps = executor.loader.project_state(after).apps
        ids = list(apps.get_model("registries", "Secret").objects.values_list("value_id", flat=True))
        assert len(set(ids)) == 3 and all(len(i) == 32 for i in ids)
        assert apps.get_model("audit", "Revision").objects.get().sync_key == sync_key(sha, ())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
