"""Every change, login, reveal and download leaves one history entry; secret values never do."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.test import Client

from regui.audit.models import AuditEvent, Revision
from regui.registries.models import Secret
from tests.keys import ssh_key
from tests.pages import post_registries

pytestmark = pytest.mark.django_db

PW = "Sekret-Value-93"


def entries(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def last(**filters) -> AuditEvent:
    return AuditEvent.objects.filter(**filters).order_by("-id").first()


def registries_form(revision=0, **extra):
    data = {"revision": str(revision), "_action": "save", "message": "first cut",
            "mirror": ["m1"], "m1-hostname": "docker.io", "m1-endpoint": ["e1"], "e1-url": "https://a.example.com",
            "config": ["c1"], "c1-hostname": "a.example.com", "c1-auth": "create-basic", "c1-username": "robot",
            "c1-password": PW}
    data.update(extra)
    return data


def test_cluster_create_update_and_delete_are_recorded(operator_client):
    operator_client.post("/clusters/new/", {"name": "edge", "distro": "k3s"})
    operator_client.post("/clusters/edge/edit/", {"name": "edge", "distro": "rke2", "description": "x"})
    operator_client.post("/clusters/edge/delete/", {"confirm_name": "edge"})
    create, update, delete = entries(object_type="cluster")
    assert (create.action, update.action, delete.action) == ("create", "update", "delete")
    assert update.changes == {"distro": ["k3s", "rke2"], "description": ["", "x"]}
    assert all(e.actor_name == "olivia" and e.cluster_name == "edge" for e in (create, update, delete))


def test_a_note_typed_on_a_form_goes_with_its_entries(operator_client, admin_client, cluster, make_user):
    for url in ("/clusters/new/", f"/clusters/{cluster.name}/edit/", "/secrets/new/?kind=basic",
                f"/clusters/{cluster.name}/nodes/new/", f"/clusters/{cluster.name}/nodes/bulk/"):
        html = operator_client.get(url).content.decode()
        assert 'class="history-note"' in html and 'name="message"' in html, url
    operator_client.post("/clusters/new/", {"name": "edge", "distro": "k3s", "message": "for the edge sites"})
    assert last(object_type="cluster").message == "for the edge sites"
    operator_client.post("/clusters/edge/delete/", {"confirm_name": "edge", "message": "sites closed"})
    assert last(object_type="cluster", action="delete").message == "sites closed"
    user = make_user("temp", "viewer")
    assert 'class="history-note"' in admin_client.get(f"/users/{user.pk}/").content.decode()


def test_saving_registries_records_each_mirror_and_config_and_makes_a_revision(operator_client, cluster):
    post_registries(operator_client, cluster, registries_form())
    mirror, config = last(object_type="mirror"), last(object_type="registry_config")
    assert mirror.action == "create" and mirror.changes["endpoints"] == [None, ["https://a.example.com"]]
    assert config.action == "create" and config.changes["auth_secret"][1] == "prod-a-example-com-auth"
    assert mirror.revision == config.revision == 1 and mirror.message == "first cut"
    assert mirror.request_id and mirror.request_id == config.request_id, "one request's changes group together"
    assert mirror.source_ip == "127.0.0.1"
    rev = Revision.objects.get(cluster=cluster, number=1)
    from regui.registries.selectors import cluster_render

    assert rev.sha256 == hashlib.sha256(cluster_render(cluster, reveal=True).encode()).hexdigest()
    assert PW not in rev.yaml_redacted and "<redacted" in rev.yaml_redacted
    assert rev.author_name == "olivia" and rev.message == "first cut"


def test_a_ca_bundle_shows_in_history_by_its_hash(operator_client, cluster):
    from tests.certs import key_and_cert

    _, cert = key_and_cert()
    post_registries(operator_client, cluster, registries_form(**{"c1-ca_bundle": cert}))
    shown = last(object_type="registry_config").changes["ca_bundle"][1]
    assert shown.startswith("PEM sha256:") and "BEGIN CERTIFICATE" not in json.dumps(shown)


def test_updates_and_deletes_of_mirrors_and_configs_carry_before_and_after(operator_client, cluster):
    post_registries(operator_client, cluster, registries_form())
    secret = Secret.objects.get()
    post_registries(operator_client, cluster, registries_form(
        revision=1, message="", **{"e1-url": "https://b.example.com", "config": [], "c1-auth": str(secret.id)}))
    update = last(object_type="mirror")
    assert update.action == "update" and update.changes == {
        "endpoints": [["https://a.example.com"], ["https://b.example.com"]]}
    assert last(object_type="registry_config").action == "delete"
    assert Revision.objects.filter(cluster=cluster).count() == 2


def test_secret_changes_are_metadata_only(operator_client, cluster):
    operator_client.post("/secrets/new/?kind=basic", {"cluster": cluster.name, "name": "harbor", "username": "u",
                                                      "password": PW})
    operator_client.post("/secrets/harbor/", {"name": "harbor", "username": "u2", "password": PW + "x"})
    operator_client.post("/secrets/harbor/delete/")
    create, update, delete = entries(object_type="secret")
    assert create.changes["password"] == [None, "(set)"]
    assert update.changes == {"username": ["u", "u2"], "password": ["(set)", "(changed)"]}
    assert delete.action == "delete" and delete.secret_id_ref == create.secret_id_ref


def test_a_secret_value_change_gives_every_cluster_using_it_a_new_revision(operator_client, cluster):
    post_registries(operator_client, cluster, registries_form())
    name = Secret.objects.get().name
    operator_client.post(f"/secrets/{name}/", {"name": name, "username": "robot", "password": "new-" + PW})
    rev = Revision.objects.filter(cluster=cluster).order_by("-number").first()
    assert rev.number == 2 and f"secret {name} changed" in rev.message
    assert rev.sha256 != Revision.objects.get(cluster=cluster, number=1).sha256


def test_node_changes_record_the_credential_only_as_changed(operator_client, cluster):
    key = ssh_key()
    base = {"name": "n1", "address": "10.0.0.1", "port": "22", "role": "agent", "ssh_user": "root",
            "credential_kind": "key", "credential": key}
    operator_client.post(f"/clusters/{cluster.name}/nodes/new/", base)
    node_id = last(object_type="node").node_id_ref
    operator_client.post(f"/clusters/{cluster.name}/nodes/{node_id}/edit/", {**base, "port": "2222"})
    operator_client.post(f"/clusters/{cluster.name}/nodes/{node_id}/delete/")
    create, update, delete = entries(object_type="node")
    assert create.changes["credential"] == [None, "(set)"] and update.changes == {
        "port": [22, 2222], "credential": ["(set)", "(changed)"]}
    assert delete.action == "delete"
    assert all(e.cluster_name == cluster.name for e in (create, update, delete))


def test_bulk_added_nodes_and_host_key_approvals_are_recorded(operator_client, admin_client, cluster):
    from regui.inventory.models import Node

    operator_client.post(f"/clusters/{cluster.name}/nodes/bulk/", {
        "lines": "s1 10.0.0.1 server\na1 10.0.0.2 agent", "ssh_user": "root", "credential_kind": "password",
        "credential": "pw-bulk"})
    assert {e.object_repr for e in entries(object_type="node", action="create")} == {"s1", "a1"}
    node = Node.objects.get(name="s1")
    Node.objects.filter(pk=node.pk).update(scanned_key="AAAAC3Nz", scanned_key_type="ssh-ed25519",
                                           scanned_fingerprint="SHA256:abc")
    admin_client.post(f"/clusters/{cluster.name}/nodes/{node.pk}/approve/", {"fingerprint": "SHA256:abc"})
    approval = last(action="approve_key")
    assert approval.node_id_ref == node.pk and approval.changes["host_key"] == [None, "ssh-ed25519 SHA256:abc"]
    assert approval.changes["approved_by"] == [None, "alice"] and approval.actor_name == "alice"


def test_users_and_roles_are_recorded(admin_client):
    from django.contrib.auth.models import User

    admin_client.post("/users/", {"username": "newbie", "password1": "Very-long-pass-123",
                                  "password2": "Very-long-pass-123", "role": "viewer"})
    newbie = User.objects.get(username="newbie")
    admin_client.post(f"/users/{newbie.pk}/", {"role": "operator", "is_active": "on"})
    create, update = entries(object_type="user", object_repr="newbie")
    assert create.action == "create" and create.changes["role"] == [None, "viewer"]
    assert update.changes == {"role": ["viewer", "operator"]} and update.actor_name == "alice"


def test_reveals_and_downloads_are_recorded(admin_client, cluster):
    admin_client.post("/secrets/new/?kind=basic", {"name": "harbor", "username": "u", "password": PW})
    admin_client.post("/secrets/harbor/reveal/")
    admin_client.get(f"/clusters/{cluster.name}/registries.yaml")
    assert last(action="reveal").object_repr == "harbor" and last(action="reveal").actor_name == "alice"
    assert last(action="download").cluster_name == cluster.name


def test_logins_logouts_and_failed_logins_are_recorded(make_user):
    make_user("dora", "viewer")
    c = Client()
    c.post("/login/", {"username": "dora", "password": "wrong-password"})
    c.post("/login/", {"username": "dora", "password": "pw-dora-Longer1"})
    c.post("/logout/")
    failed, login, logout = entries(object_type="user", action__in=["login_failed", "login", "logout"])
    assert (failed.action, login.action, logout.action) == ("login_failed", "login", "logout")
    assert failed.object_repr == "dora" and not failed.actor_id
    assert login.actor_name == logout.actor_name == "dora" and login.source_ip == "127.0.0.1"
    assert "wrong-password" not in json.dumps([e.changes for e in (failed, login, logout)]) + failed.message


def test_the_actor_name_survives_deleting_the_user(operator_client, cluster):
    from django.contrib.auth.models import User

    post_registries(operator_client, cluster, registries_form())
    User.objects.filter(username="olivia").delete()
    entry = last(object_type="mirror")
    assert entry.actor_name == "olivia" and entry.actor_id is None


def test_deleting_a_user_outside_the_app_is_recorded_with_its_roles(make_user):
    from django.contrib.auth.models import User

    make_user("temp-op", "operator")
    User.objects.filter(username="temp-op").delete()
    entry = AuditEvent.objects.get(action="delete", object_type="user")
    assert entry.object_repr == "temp-op" and entry.changes["username"] == ["temp-op", None]
    assert entry.changes["roles"][0] == ["operator"]


def test_no_entry_or_revision_holds_a_secret_value(operator_client, admin_client, cluster):
    post_registries(operator_client, cluster, registries_form())
    name = Secret.objects.get().name
    operator_client.post(f"/secrets/{name}/", {"name": name, "username": "robot", "password": PW + "-2"})
    admin_client.post(f"/secrets/{name}/reveal/")
    dump = json.dumps([[e.changes, e.message, e.object_repr] for e in AuditEvent.objects.all()])
    dump += json.dumps([[r.yaml_redacted, r.snapshot, r.message] for r in Revision.objects.all()])
    assert PW not in dump and len(AuditEvent.objects.all()) >= 5


def test_entries_are_append_only():
    from regui.audit.models import AppendOnly
    from regui.audit.services import audit_record

    e = audit_record(action="create", object_type="cluster", object_repr="x")
    e.message = "tampered"
    with pytest.raises(AppendOnly):
        e.save()
    with pytest.raises(AppendOnly):
        e.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=e.pk).update(message="tampered")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=e.pk).message == ""


def test_prune_history_removes_old_entries_only(settings):
    import io
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from regui.audit.services import audit_record

    old, new = (audit_record(action="create", object_type="cluster", object_repr=n) for n in ("old", "new"))
    with connection.cursor() as cur:  # back-date one entry; the model itself refuses updates
        cur.execute("UPDATE audit_auditevent SET time = %s WHERE id = %s", [timezone.now() - timedelta(days=91), old.pk])
    out = io.StringIO()
    call_command("prune_history", "--days", "0", stdout=out)
    assert AuditEvent.objects.count() == 2 and "Keeping every" in out.getvalue()
    call_command("prune_history", stdout=out)
    assert list(AuditEvent.objects.values_list("object_repr", flat=True)) == ["new"]


def test_prune_history_runs_daily_from_celery_beat(settings):
    from regui.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["prune-history"]
    assert entry["task"] == "regui.prune_history" and entry["schedule"] == 86400
    app.loader.import_default_modules()  # what a worker does at start: find every app's tasks
    assert "regui.prune_history" in app.tasks
