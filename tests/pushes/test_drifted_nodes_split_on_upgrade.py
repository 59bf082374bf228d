"""Upgrading (pushes 0011) splits the nodes recorded "drifted" before "out of date" existed: one regui
still knew the sync key of was never changed on the node, so it is out of date, or, when its last push
wrote the file and then failed to restart, in sync with a restart pending that says so. A node drifted
without a key (changed on the node) stays drifted. The reverse makes the out-of-date ones drifted again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from regui.inventory.models import Node
from regui.registries.models import Cluster

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("pushes", "0010_pushresult_ready_since"), ("inventory", "0005_node_last_sync_key")]
AFTER = [("pushes", "0011_pushresult_out_of_date")]


def test_drifted_nodes_with_a_key_become_out_of_date_or_a_failed_restart_and_the_reverse_undoes_it():
    cluster = Cluster.objects.create(name="prod", distro="k3s")
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        old_node, job_model, result_model = (apps.get_model("inventory", "Node"), apps.get_model("pushes", "PushJob"),
                                             apps.get_model("pushes", "PushResult"))

        def node(name: str, key: str, **fields):
            return old_node.objects.create(cluster_id=cluster.pk, name=name, address=f"10.0.0.{len(name)}",
                                           sync_state="drifted", last_sha256="1" * 64, last_sync_key=key, **fields)

        node("edited", "")
        # The current render's key, a TLS file of it changed on the node (what the drift check said then).
        node("tlsedited", "k" * 64, last_message="differs from the current render: /etc/rancher/k3s/tls/r/ca.crt")
        saved, restart = node("saved", "k" * 64), node("restartfailed", "k" * 64)
        node_in_sync = old_node.objects.create(cluster_id=cluster.pk, name="fine", address="10.0.0.9",
                                               sync_state="in_sync", last_sha256="1" * 64, last_sync_key="k" * 64)
        push = job_model.objects.create(cluster_id=cluster.pk, kind="push", status="done")
        for n, status, restarted in ((restart, "failed", True), (saved, "changed", True), (node_in_sync, "changed", True)):
            result_model.objects.create(job=push, node=n, node_name=n.name, role="agent", status=status,
                                        restarted=restarted)
        check = job_model.objects.create(cluster_id=cluster.pk, kind="drift", status="done")
        result_model.objects.create(job=check, node=restart, node_name="restartfailed", role="agent", status="in_sync")

        MigrationExecutor(connection).migrate(AFTER)
        rows = {n.name: (n.sync_state, n.restart_pending, n.restart_failed) for n in Node.objects.all()}
        assert rows == {"saved": ("out_of_date", False, False), "edited": ("drifted", False, False),
                        "tlsedited": ("drifted", False, False),
                        "restartfailed": ("in_sync", True, True), "fine": ("in_sync", False, False)}

        MigrationExecutor(connection).migrate(BEFORE)
        apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        states = dict(apps.get_model("inventory", "Node").objects.values_list("name", "sync_state"))
        assert states == {"saved": "drifted", "edited": "drifted", "tlsedited": "drifted", "restartfailed": "in_sync",
                          "fine": "in_sync"}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
