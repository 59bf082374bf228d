"""Deleting a cluster from its page: its name typed again, recorded in history (issue 11 part 10)."""

from __future__ import annotations

import pytest

from regui.audit.models import AuditEvent
from regui.registries.importing import registries_import
from regui.registries.models import Cluster, Mirror, Secret

pytestmark = pytest.mark.django_db

FILE = ('mirrors:\n  docker.io:\n    endpoint: ["https://reg.example.com"]\n'
        'configs:\n  reg.example.com:\n    auth: {username: u, password: p}\n')


def test_the_wrong_name_is_refused_and_nothing_is_deleted(operator_client, cluster):
    for typed in ("", "Prod", "staging", " prod-"):
        r = operator_client.post(f"/clusters/{cluster.name}/delete/", {"confirm_name": typed})
        assert r.status_code == 400, typed
    assert "type prod exactly" in r.content.decode()
    assert Cluster.objects.filter(name="prod").exists()
    assert not AuditEvent.objects.filter(object_type="cluster", action="delete").exists()


def test_the_typed_name_deletes_the_cluster_and_history_records_it(operator_client, cluster):
    registries_import(cluster=cluster, text=FILE, replace=False)
    r = operator_client.post(f"/clusters/{cluster.name}/delete/", {"confirm_name": "prod", "message": "moved to edge"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert not Cluster.objects.exists() and not Mirror.objects.exists()
    entry = AuditEvent.objects.get(object_type="cluster", action="delete")
    assert entry.actor_name == "olivia" and entry.cluster_name == "prod" and entry.message == "moved to edge"
    assert entry.changes["mirrors"] == [1, None] and entry.changes["revision"] == [1, None]
    # Its secret stays, for an admin to share or delete, and says so in its own history.
    secret = Secret.objects.get()
    assert secret.cluster is None
    assert AuditEvent.objects.get(object_type="secret", action="update").changes == {"cluster": ["prod", None]}
    assert "Cluster prod deleted." in operator_client.get("/").content.decode()


def test_the_confirmation_page_asks_for_the_name(operator_client, cluster):
    html = operator_client.get(f"/clusters/{cluster.name}/delete/").content.decode()
    assert 'name="confirm_name"' in html and "Type the cluster" in html and 'name="message"' in html


def test_viewers_cannot_delete_a_cluster(viewer_client, cluster):
    assert viewer_client.get(f"/clusters/{cluster.name}/delete/").status_code == 403
    assert viewer_client.post(f"/clusters/{cluster.name}/delete/", {"confirm_name": "prod"}).status_code == 403
    assert Cluster.objects.filter(name="prod").exists()


def test_the_cluster_tabs_offer_delete_to_operators_and_not_to_viewers(operator_client, viewer_client, cluster):
    # The tabs are on every page of a cluster: its nodes, pushes and history as well as its registries.
    assert 'id="nav-delete"' in operator_client.get(f"/clusters/{cluster.name}/nodes/").content.decode()
    assert 'id="nav-delete"' not in viewer_client.get(f"/clusters/{cluster.name}/nodes/").content.decode()
