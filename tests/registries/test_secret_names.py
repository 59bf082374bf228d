"""One readable name for the secrets regui makes: `<cluster>-<host>-auth`, then -2, -3 … (issue 11 part 15)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from regui.registries.draft import AUTH_CREATE_BASIC, AUTH_CREATE_RKE, ConfigBox, Draft
from regui.registries.importing import registries_import
from regui.registries.models import Secret
from regui.registries.secret_names import secret_name_base, secret_name_for, secret_name_free
from regui.registries.services import registries_save


def test_a_name_is_the_cluster_then_the_host_as_a_slug():
    assert secret_name_base("prod", "Harbor.Example.com:5000") == "prod-harbor-example-com-5000"
    assert secret_name_base("prod", "[fd00::1]:5000") == "prod-fd00-1-5000"


def test_the_wildcard_registry_is_named_default():
    assert secret_name_base("prod", "*") == "prod-default"


def test_a_taken_name_gets_the_next_free_number():
    assert secret_name_free("prod-h", set()) == "prod-h-auth"
    assert secret_name_free("prod-h", {"prod-h-auth"}) == "prod-h-auth-2"
    assert secret_name_free("prod-h", {"prod-h-auth", "prod-h-auth-2", "prod-h-auth-4"}) == "prod-h-auth-3"


def test_a_very_long_host_still_gives_a_name_a_secret_can_have():
    name = secret_name_free(secret_name_base("c" * 63, "a" * 250 + ".example.com"), set())
    assert len(name) <= 253 and name.endswith("-auth")
    Secret._meta.get_field("name").run_validators(name)


@pytest.mark.django_db
def test_names_already_promised_in_the_same_import_are_skipped(cluster):
    Secret.objects.create(name="prod-h-example-com-auth", kind="basic", cluster=cluster)
    assert secret_name_for("prod", "h.example.com") == "prod-h-example-com-auth-2"
    assert secret_name_for("prod", "h.example.com", reserved=["prod-h-example-com-auth-2"]) == \
        "prod-h-example-com-auth-3"


@pytest.mark.django_db
def test_the_form_and_an_import_name_their_secrets_the_same_way(cluster):
    draft = Draft(revision=0, configs=[
        ConfigBox("k1", "reg.example.com:5000", auth=AUTH_CREATE_BASIC, username="u", password="p1"),
        ConfigBox("k2", "*", auth=AUTH_CREATE_RKE, username="u", password="p2"),
    ])
    registries_save(cluster=cluster, draft=draft)
    assert set(Secret.objects.values_list("name", flat=True)) == {"prod-reg-example-com-5000-auth", "prod-default-auth"}
    # The same host again, by an import with other credentials: the next number, same scheme.
    result = registries_import(cluster=cluster, replace=False,
                               text='configs:\n  "reg.example.com:5000":\n    auth: {username: v, password: p3}\n')
    assert result.secrets == ["prod-reg-example-com-5000-auth-2"]
    made = Secret.objects.get(name="prod-reg-example-com-5000-auth-2")
    assert made.cluster == cluster and made.unseal() == {"password": "p3"}


@pytest.mark.django_db
def test_the_import_command_names_secrets_by_the_same_scheme():
    path = "/tmp/regui-secret-names.yaml"
    with open(path, "w") as f:
        f.write('configs:\n  "10.0.0.5:5000":\n    auth: {username: u, password: p}\n')
    call_command("import_registries", path, "--cluster", "edge", stdout=io.StringIO(), stderr=io.StringIO())
    assert list(Secret.objects.values_list("name", flat=True)) == ["edge-10-0-0-5-5000-auth"]


@pytest.mark.django_db(transaction=True)
def test_a_name_taken_between_the_look_up_and_the_insert_is_retried(cluster, monkeypatch):
    from regui.registries import services

    Secret.objects.create(name="prod-h-example-com-auth", kind="basic", cluster=cluster)
    answers = iter(["prod-h-example-com-auth"])  # as if another save took it a moment ago

    def racing(cluster_name, host, reserved=()):
        return next(answers, None) or secret_name_for(cluster_name, host, reserved=reserved)

    monkeypatch.setattr(services, "secret_name_for", racing)
    made = services.secret_create(cluster=cluster, host="h.example.com", kind="basic", values={"password": "p"})
    assert made.name == "prod-h-example-com-auth-2"
