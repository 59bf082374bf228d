"""Secrets pages: create (for a cluster), edit (blank keeps), delete (refused in use), never shown, admin reveal.
Who may share and change secrets is tests/registries/test_secret_ownership.py."""

from __future__ import annotations

import pytest
from django.db import transaction

from regui.audit.models import AuditEvent, ObjectType
from regui.registries.models import Cluster, RegistryConfig, Secret
from regui.registries.services import SecretInput, secret_save
from tests.certs import key_and_cert

pytestmark = pytest.mark.django_db


def test_it_creates_an_http_basic_auth_secret(operator_client, cluster):
    r = operator_client.post("/secrets/new/?kind=basic", {"cluster": "prod", "name": "harbor", "username": "robot", "password": "pw-1!"})
    assert r.status_code == 302
    s = Secret.objects.get(name="harbor")
    assert s.kind == "basic" and s.username == "robot" and s.unseal() == {"password": "pw-1!"}
    assert s.cluster == cluster and not s.shared_with.exists()


def test_it_requires_username_and_password(operator_client, cluster):
    r = operator_client.post("/secrets/new/?kind=basic", {"cluster": "prod", "name": "harbor"})
    assert r.status_code == 400
    assert "Username is required." in r.content.decode() and "Password is required." in r.content.decode()
    assert not Secret.objects.exists()


def test_a_blank_password_on_edit_keeps_the_old_value_and_is_never_sent_back(operator_client, cluster):
    operator_client.post("/secrets/new/?kind=basic", {"cluster": "prod", "name": "harbor", "username": "robot", "password": "old-pw-zz"})
    page = operator_client.get("/secrets/harbor/").content.decode()
    assert "old-pw-zz" not in page and "leave blank to keep" in page
    operator_client.post("/secrets/harbor/", {"name": "harbor", "username": "robot2", "password": ""})
    s = Secret.objects.get()
    assert s.username == "robot2" and s.unseal() == {"password": "old-pw-zz"}
    operator_client.post("/secrets/harbor/", {"name": "harbor", "username": "robot2", "password": "new-pw-zz"})
    assert Secret.objects.get().unseal() == {"password": "new-pw-zz"}


def test_it_creates_a_tls_certificate_secret_and_checks_the_key_matches(operator_client, cluster):
    key, cert = key_and_cert("a.test")
    other_key, _ = key_and_cert("b.test")
    bad = operator_client.post("/secrets/new/?kind=tls", {"cluster": "prod", "name": "client", "certificate": cert, "private_key": other_key})
    assert bad.status_code == 400 and "does not belong" in bad.content.decode()
    ok = operator_client.post("/secrets/new/?kind=tls", {"cluster": "prod", "name": "client", "certificate": cert, "private_key": key})
    assert ok.status_code == 302
    page = operator_client.get("/secrets/client/").content.decode()
    assert "PRIVATE KEY" not in page.replace("typically starting with -----BEGIN RSA PRIVATE KEY-----", "")
    assert "Read from File" in page


def test_a_refused_tls_form_never_sends_the_typed_private_key_back(operator_client, cluster):
    key, cert = key_and_cert("a.test")
    other_key, _ = key_and_cert("b.test")
    bad = operator_client.post("/secrets/new/?kind=tls", {"cluster": "prod", "name": "client", "certificate": cert,
                                                           "private_key": other_key})
    page = bad.content.decode()
    assert bad.status_code == 400 and "does not belong" in page
    body = other_key.strip().splitlines()[1]
    assert body not in page and "PRIVATE KEY-----\n" not in page.replace("\r", "")
    assert cert.strip().splitlines()[1] in page  # the certificate is no secret: kept as typed


def test_an_rke_auth_config_accepts_an_auth_value_or_identity_token(operator_client, cluster):
    r = operator_client.post("/secrets/new/?kind=rke_auth", {"cluster": "prod", "name": "rke", "auth": "not-base64"})
    assert r.status_code == 400 and "base64" in r.content.decode()
    operator_client.post("/secrets/new/?kind=rke_auth", {"cluster": "prod", "name": "rke", "auth": "dXNlcjpwYXNz"})
    operator_client.post("/secrets/new/?kind=rke_auth", {"cluster": "prod", "name": "tok", "identity_token": "eyJ-token"})
    assert Secret.objects.get(name="rke").unseal() == {"auth": "dXNlcjpwYXNz"}
    assert Secret.objects.get(name="tok").unseal() == {"identity_token": "eyJ-token"}


def test_deleting_a_secret_in_use_is_refused(operator_client, cluster):
    operator_client.post("/secrets/new/?kind=basic", {"cluster": "prod", "name": "harbor", "username": "u", "password": "p"})
    RegistryConfig.objects.create(cluster=cluster, hostname="h.example.com", auth_secret=Secret.objects.get())
    page = operator_client.get("/secrets/harbor/delete/").content.decode()
    assert "in use" in page and "prod: h.example.com" in page
    operator_client.post("/secrets/harbor/delete/")
    assert Secret.objects.filter(name="harbor").exists()
    RegistryConfig.objects.all().delete()
    operator_client.post("/secrets/harbor/delete/")
    assert not Secret.objects.exists()


def test_the_secrets_list_never_shows_values(viewer_client, operator_client, cluster):
    operator_client.post("/secrets/new/?kind=basic", {"cluster": "prod", "name": "harbor", "username": "u", "password": "very-secret-77"})
    for client in (viewer_client, operator_client):
        assert "very-secret-77" not in client.get("/secrets/").content.decode()


def test_only_admins_reveal_values_and_only_by_post(admin_client, operator_client, cluster):
    operator_client.post("/secrets/new/?kind=basic", {"cluster": "prod", "name": "harbor", "username": "u", "password": "very-secret-77"})
    assert operator_client.post("/secrets/harbor/reveal/").status_code == 403
    assert "very-secret-77" not in admin_client.get("/secrets/harbor/reveal/").content.decode()
    r = admin_client.post("/secrets/harbor/reveal/")
    assert "very-secret-77" in r.content.decode() and r["Cache-Control"] == "no-store"


def test_values_are_encrypted_in_the_database(operator_client, cluster):
    from django.db import connection

    operator_client.post("/secrets/new/?kind=basic", {"cluster": "prod", "name": "harbor", "username": "u", "password": "very-secret-77"})
    with connection.cursor() as cur:
        cur.execute("SELECT sealed FROM registries_secret")
        (sealed,) = cur.fetchone()
    assert "very-secret-77" not in sealed and sealed.startswith("gAAAA")


def test_retyping_a_secret_says_it_changed_whether_or_not_the_value_was_the_stored_one(operator_client, cluster):
    # Else saving a guess would answer it: no history entry and no new revision when it was right.
    secret = secret_save(data=SecretInput(name="corp", kind="basic", username="robot", password="admins-pw",
                                          cluster=cluster))
    RegistryConfig.objects.create(cluster=cluster, hostname="registry.corp.example.com", auth_secret=secret)
    seen = {}
    for guess in ("admins-pw", "wrong-guess"):
        point = transaction.savepoint()
        r = operator_client.post("/secrets/corp/", {"name": "corp", "username": "robot", "password": guess})
        assert r.status_code == 302
        seen[guess] = (Cluster.objects.get(pk=cluster.pk).revision,
                       [e.changes for e in AuditEvent.objects.filter(object_type=ObjectType.SECRET, object_id=str(secret.pk))
                        .order_by("pk")])
        transaction.savepoint_rollback(point)
    assert seen["admins-pw"] == seen["wrong-guess"]
    revision, entries = seen["admins-pw"]
    assert revision == 1 and "password" in entries[-1]


def test_saving_a_secret_with_nothing_typed_or_changed_says_so_and_writes_nothing(operator_client, cluster):
    # Like the Registries page's save: no history entry, no new revision, the same value_id (a new one
    # would make every node using it look out of sync: core/fingerprints.py).
    secret = secret_save(data=SecretInput(name="corp", kind="basic", username="robot", password="pw-kept-1",
                                          description="CI robot", cluster=cluster))
    RegistryConfig.objects.create(cluster=cluster, hostname="registry.corp.example.com", auth_secret=secret)
    entries = AuditEvent.objects.filter(object_type=ObjectType.SECRET).count()
    r = operator_client.post("/secrets/corp/", {"name": "corp", "username": "robot", "password": "",
                                                "description": "CI robot"}, follow=True)
    page = r.content.decode()
    assert "Nothing changed in secret corp: nothing was saved." in page and "Secret corp saved." not in page
    after = Secret.objects.get(pk=secret.pk)
    assert (after.value_id, after.sealed, after.updated_at) == (secret.value_id, secret.sealed, secret.updated_at)
    assert AuditEvent.objects.filter(object_type=ObjectType.SECRET).count() == entries
    assert Cluster.objects.get(pk=cluster.pk).revision == cluster.revision


def test_saving_a_secret_with_a_new_description_says_saved(operator_client, cluster):
    secret_save(data=SecretInput(name="corp", kind="basic", username="robot", password="pw-kept-1", cluster=cluster))
    r = operator_client.post("/secrets/corp/", {"name": "corp", "username": "robot", "password": "",
                                                "description": "CI robot"}, follow=True)
    assert "Secret corp saved." in r.content.decode()
    assert Secret.objects.get().description == "CI robot"


def test_revealed_values_are_named_with_the_forms_labels(admin_client, cluster):
    secret_save(data=SecretInput(name="corp", kind="rke_auth", username="robot", password="pw-shown-1",
                                 identity_token="tok-shown-1", cluster=cluster))
    page = admin_client.post("/secrets/corp/reveal/").content.decode()
    assert "<dt>Password</dt><dd>pw-shown-1</dd>" in page and "<dt>Identity Token</dt><dd>tok-shown-1</dd>" in page
    assert "<dt>password</dt>" not in page and "identity_token" not in page
