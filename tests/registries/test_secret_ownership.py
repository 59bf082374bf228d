"""Secrets belong to a cluster or are shared by an admin: a cluster's registries use only those, so an
operator cannot send another cluster's passwords, tokens or TLS keys to nodes of their own choosing.
Every path that makes a cluster refer to a secret is tried as an attacker would: the page's POST,
an import, a restore; and the secrets pages' own boundaries (sharing, changing a shared secret)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from regui.audit.context import acting
from regui.audit.models import AuditEvent, Revision
from regui.registries.importing import ImportRefused, registries_import
from regui.registries.models import Cluster, RegistryConfig, Secret
from regui.registries.restore import RestoreRefused, registries_restore
from regui.registries.selectors import secrets_for_choice
from regui.registries.services import SecretInput, secret_save
from tests.pages import post_registries

pytestmark = pytest.mark.django_db

PW = "Prod-Only-Secret-9Z"


@pytest.fixture
def prod(cluster):
    """prod with a password secret of its own, in use."""
    secret = secret_save(data=SecretInput(name="prod-robot", kind="basic", username="robot", password=PW,
                                          cluster=cluster))
    RegistryConfig.objects.create(cluster=cluster, hostname="registry.prod.example.com", auth_secret=secret)
    return cluster


@pytest.fixture
def evil(db):
    return Cluster.objects.create(name="evil")


def save_form(secret_field: str, secret_id: int, revision: int = 0) -> dict:
    data = {"revision": str(revision), "config": ["c1"], "c1-hostname": "registry.prod.example.com",
            "c1-auth": "none"}
    data[f"c1-{secret_field}"] = str(secret_id)
    return data


@pytest.mark.parametrize("secret_field", ["auth", "tls_secret"])
def test_an_operator_cannot_save_another_clusters_secret_into_their_cluster(operator_client, prod, evil,
                                                                           secret_field):
    from tests.certs import key_and_cert

    key, cert = key_and_cert("registry.prod.example.com")
    tls = secret_save(data=SecretInput(name="prod-tls", kind="tls", certificate=cert, private_key=key, cluster=prod))
    stolen = Secret.objects.get(name="prod-robot") if secret_field == "auth" else tls
    r = post_registries(operator_client, evil, save_form(secret_field, stolen.pk))
    assert r.status_code == 400
    assert f"Secret “{stolen.name}” belongs to another cluster and is not shared with this one" in r.content.decode()
    assert not evil.configs.exists() and Cluster.objects.get(pk=evil.pk).revision == 0


def test_the_registries_page_offers_only_the_clusters_own_and_shared_secrets(operator_client, admin_client, prod,
                                                                             evil):
    mine = secret_save(data=SecretInput(name="evil-robot", kind="basic", username="e", password="p", cluster=evil))
    page = operator_client.get("/clusters/evil/").content.decode()
    assert "evil-robot" in page and "prod-robot" not in page
    assert [s.name for s in secrets_for_choice(evil)["auth"]] == [mine.name]
    admin_client.post("/secrets/prod-robot/", {"name": "prod-robot", "cluster": "prod", "shared_with": ["evil"],
                                               "username": "robot"})
    assert "prod-robot" in operator_client.get("/clusters/evil/").content.decode()


def test_a_secret_an_admin_shared_can_be_used_and_its_values_reach_the_cluster(operator_client, admin_client, prod,
                                                                               evil):
    from regui.registries.selectors import cluster_render

    admin_client.post("/secrets/prod-robot/", {"name": "prod-robot", "cluster": "prod", "shared_with": ["evil"],
                                               "username": "robot"})
    secret = Secret.objects.get(name="prod-robot")
    assert list(secret.shared_with.values_list("name", flat=True)) == ["evil"] and secret.cluster == prod
    entry = AuditEvent.objects.filter(object_type="secret", action="update").latest("id")
    assert entry.changes["shared_with"] == [[], ["evil"]] and entry.actor_name == "alice"
    r = post_registries(operator_client, evil, save_form("auth", secret.pk))
    assert r.status_code == 302
    assert PW in cluster_render(evil, reveal=True)


def test_an_admin_cannot_unshare_a_secret_a_cluster_still_uses(admin_client, prod, evil):
    secret = Secret.objects.get(name="prod-robot")
    secret.shared_with.add(evil)
    RegistryConfig.objects.create(cluster=evil, hostname="registry.prod.example.com", auth_secret=secret)
    r = admin_client.post("/secrets/prod-robot/", {"name": "prod-robot", "cluster": "prod", "username": "robot"})
    assert r.status_code == 400 and "Cluster evil uses this secret" in r.content.decode()
    assert list(secret.shared_with.all()) == [evil]


def test_an_operator_makes_a_secret_for_a_cluster_and_cannot_share_it(operator_client, evil, prod):
    r = operator_client.post("/secrets/new/?kind=basic", {"name": "mine", "username": "u", "password": "p"})
    assert r.status_code == 400 and "This field is required." in r.content.decode()
    # The form has no sharing for an operator: a forged field is ignored, not obeyed.
    r = operator_client.post("/secrets/new/?kind=basic", {"cluster": "evil", "shared_with": ["prod"], "name": "mine",
                                                          "username": "u", "password": "p"})
    assert r.status_code == 302
    mine = Secret.objects.get(name="mine")
    assert mine.cluster == evil and not mine.shared_with.exists()
    assert "mine" not in [s.name for s in secrets_for_choice(prod)["auth"]]
    # Nor can it be moved to another cluster afterwards (the field is fixed for an operator).
    operator_client.post("/secrets/mine/", {"cluster": "prod", "name": "mine", "username": "u"})
    assert Secret.objects.get(name="mine").cluster == evil


def test_the_service_refuses_an_operator_sharing_or_moving_a_secret(make_user, evil, prod):
    from django.core.exceptions import PermissionDenied

    olivia = make_user("olivia", "operator")
    with pytest.raises(PermissionDenied):
        secret_save(data=SecretInput(name="x", kind="basic", username="u", password="p", cluster=evil,
                                     shared_with=[prod]), user=olivia)
    mine = secret_save(data=SecretInput(name="x", kind="basic", username="u", password="p", cluster=evil), user=olivia)
    with pytest.raises(PermissionDenied):
        secret_save(data=SecretInput(name="x", kind="basic", username="u", cluster=prod), existing=mine, user=olivia)


@pytest.mark.parametrize("how", ["shared", "admins"])
def test_only_an_admin_changes_or_deletes_a_shared_or_unowned_secret(operator_client, admin_client, prod, evil, how):
    secret = Secret.objects.get(name="prod-robot")
    if how == "shared":
        secret.shared_with.add(evil)
    else:
        Secret.objects.filter(pk=secret.pk).update(cluster=None)
        secret.shared_with.add(prod)
    # Changing the password would change what every sharing cluster's nodes receive.
    r = operator_client.post("/secrets/prod-robot/", {"name": "prod-robot", "username": "robot",
                                                      "password": "attacker-chosen"})
    assert r.status_code == 403
    assert operator_client.post("/secrets/prod-robot/delete/").status_code == 403
    assert Secret.objects.get(name="prod-robot").unseal() == {"password": PW}
    assert b"/secrets/prod-robot/delete/" not in operator_client.get("/secrets/").content
    r = admin_client.post("/secrets/prod-robot/", {"name": "prod-robot", "cluster": "prod" if how == "shared" else "",
                                                   "shared_with": ["prod", "evil"], "username": "robot",
                                                   "password": "admin-chosen"})
    assert r.status_code == 302 and Secret.objects.get(name="prod-robot").unseal() == {"password": "admin-chosen"}


def test_an_operator_changes_their_own_clusters_unshared_secret(operator_client, prod):
    r = operator_client.post("/secrets/prod-robot/", {"name": "prod-robot", "username": "robot", "password": "new-pw"})
    assert r.status_code == 302 and Secret.objects.get(name="prod-robot").unseal() == {"password": "new-pw"}


def test_secrets_made_on_the_registries_page_or_by_an_import_belong_to_that_cluster(operator_client, evil):
    post_registries(operator_client, evil, {"revision": "0", "config": ["c1"], "c1-hostname": "a.example.com",
                                            "c1-auth": "create-basic", "c1-username": "u", "c1-password": "p"})
    registries_import(cluster=evil, text='configs:\n  "b.example.com":\n    auth: {username: v, password: q}\n',
                      replace=False)
    assert {s.cluster.name for s in Secret.objects.all()} == {"evil"} and Secret.objects.count() == 2


def test_an_import_never_keeps_a_reference_to_a_secret_the_cluster_may_not_use(prod, evil):
    # However it got there (written around the saves), an import does not make it the cluster's.
    RegistryConfig.objects.create(cluster=evil, hostname="registry.prod.example.com",
                                  auth_secret=Secret.objects.get(name="prod-robot"))
    with pytest.raises(ImportRefused) as refused:
        registries_import(cluster=evil, text='mirrors:\n  docker.io:\n    endpoint: ["https://m.example.com"]\n',
                          replace=False)
    assert "prod-robot" in " ".join(refused.value.details)
    assert not evil.mirrors.exists() and not Secret.objects.filter(cluster=evil).exists()


def test_a_restore_of_a_revision_using_a_secret_no_longer_shared_is_refused_with_the_reason(make_user, prod, evil):
    olivia = make_user("olivia", "operator")
    secret = Secret.objects.get(name="prod-robot")
    secret.shared_with.add(evil)
    with acting(olivia):
        registries_import(cluster=evil, text='mirrors:\n  docker.io:\n    endpoint: ["https://m.example.com"]\n',
                          replace=True, user=olivia)
        RegistryConfig.objects.create(cluster=evil, hostname="registry.prod.example.com", auth_secret=secret)
        registries_import(cluster=evil, text='mirrors:\n  quay.io:\n    endpoint: ["https://q.example.com"]\n',
                          replace=False, user=olivia)  # revision 2 uses the shared secret
        registries_import(cluster=evil, text='mirrors:\n  quay.io:\n    endpoint: ["https://q.example.com"]\n',
                          replace=True, user=olivia)  # revision 3 no longer does
    secret.shared_with.remove(evil)
    with pytest.raises(RestoreRefused, match="prod-robot.*evil may no longer use"):
        registries_restore(cluster=evil, revision=Revision.objects.get(cluster=evil, number=2), user=olivia)
    assert not RegistryConfig.objects.filter(cluster=evil, auth_secret=secret).exists()


def test_the_restore_page_says_why_it_refused(operator_client, prod, evil):
    secret = Secret.objects.get(name="prod-robot")
    Revision.objects.create(cluster=evil, number=1, yaml_redacted="", sha256="0" * 64, snapshot={
        "mirrors": [], "configs": [{"hostname": "registry.prod.example.com", "auth_secret_id": secret.pk,
                                    "auth_secret": secret.name, "tls_secret_id": None, "tls_secret": None}]})
    r = operator_client.post("/clusters/evil/revisions/1/restore/", follow=True)
    assert "may no longer use" in r.content.decode()
    assert not evil.configs.exists()


MIGRATION = importlib.import_module("regui.registries.migrations.0002_secret_owner_and_sharing")


def test_the_migration_gives_each_secret_in_use_to_the_clusters_using_it(prod, evil):
    one = Secret.objects.get(name="prod-robot")
    both, unused = (Secret.objects.create(name=n, kind="basic", username="u") for n in ("both", "unused"))
    Secret.objects.filter(pk=one.pk).update(cluster=None)  # as before the migration: nobody's
    for c in (prod, evil):
        RegistryConfig.objects.create(cluster=c, hostname="shared.example.com", tls_secret=None, auth_secret=both)
    MIGRATION.share_secrets_in_use(apps, None)
    one, both, unused = (Secret.objects.get(pk=s.pk) for s in (one, both, unused))
    assert one.cluster == prod and not one.shared_with.exists()
    assert both.cluster is None and set(both.shared_with.values_list("name", flat=True)) == {"prod", "evil"}
    assert unused.cluster is None and not unused.shared_with.exists()
    # No cluster lost a secret it uses, and running it again changes nothing.
    for c in (prod, evil):
        used = set(RegistryConfig.objects.filter(cluster=c).values_list("auth_secret", flat=True))
        assert used <= set(Secret.objects.usable_by(c).values_list("pk", flat=True))
    MIGRATION.share_secrets_in_use(apps, None)
    assert Secret.objects.get(pk=both.pk).shared_with.count() == 2 and Secret.objects.count() == 3
