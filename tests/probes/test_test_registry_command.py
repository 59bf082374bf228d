"""`manage.py test_registry --cluster NAME [HOST]`: the same test as the page's, run here, in words or
JSON, never a secret; it fails (exit 1) when a tested registry does not work. Fast tier: in-process,
against the tiny registry of tests/probes/servers.py."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from regui.audit.models import AuditEvent
from regui.probes.models import RegistryTest
from tests.probes.conftest import save_registry

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("test_registry", *args, stdout=out)
    return out.getvalue()


def test_it_tests_every_saved_registry_and_prints_each_step(cluster, tls_registry, registry_ca, settings):
    settings.REGUI_REGISTRY_TEST_TIMEOUT = 3
    save_registry(cluster, tls_registry, ca_pem=registry_ca.pem)
    text = run("--cluster", cluster.name, "--image", "team/app:v1")
    assert text.startswith(f"{tls_registry.host}, image team/app:v1: works (test #")
    assert f"  Works: a pull of {tls_registry.host}/team/app:v1 gets its manifest" in text
    assert "    [ok] tls: TLSv1.3: certificate subject CN=registry.fast.test" in text
    assert "    [ok] manifest: HEAD /v2/team/app/manifests/v1: 200, the manifest is there" in text
    assert tls_registry.password not in text
    entry = AuditEvent.objects.get(action="registry_test")  # recorded as the page's are
    assert entry.message == "started by manage.py test_registry"
    assert RegistryTest.objects.get().created_by_name == "manage.py test_registry"


def test_json_holds_the_same_words_and_statuses(cluster, tls_registry, registry_ca, settings):
    settings.REGUI_REGISTRY_TEST_TIMEOUT = 3
    save_registry(cluster, tls_registry, ca_pem=registry_ca.pem)
    out = json.loads(run(tls_registry.host, "--cluster", cluster.name, "--json"))
    assert [(t["registry"], t["status"]) for t in out] == [(tls_registry.host, "passed")]
    endpoint = out[0]["endpoints"][0]
    assert endpoint["outcome"] == "ok" and endpoint["url"] == f"https://{tls_registry.host}/v2"
    assert [(s["what"], s["outcome"]) for s in endpoint["steps"]] == [
        ("note", "warning"), ("connect", "ok"), ("tls", "ok"), ("ping", "info"), ("auth", "info"), ("ping", "ok")]
    assert endpoint["steps"][0]["text"].endswith("is the node itself on a node; from the worker it is the worker's host")
    assert tls_registry.password not in json.dumps(out)


def test_a_failing_registry_makes_the_command_fail_after_saying_why(cluster, tls_registry, registry_ca, settings):
    settings.REGUI_REGISTRY_TEST_TIMEOUT = 3
    save_registry(cluster, tls_registry, password="Wrong-Password-9", ca_pem=registry_ca.pem)
    out = StringIO()
    with pytest.raises(CommandError, match=f"1 of 1 failed: {tls_registry.host}"):
        call_command("test_registry", "--cluster", cluster.name, "--json", stdout=out)
    result = json.loads(out.getvalue())[0]
    assert result["status"] == "failed" and "the registry rejected the credentials of configs[" in result["summary"]
    assert "Wrong-Password-9" not in out.getvalue()


def test_any_registry_may_be_named_to_see_what_a_pull_from_it_does(cluster):
    with pytest.raises(CommandError, match="1 of 1 failed: no-such-registry.invalid"):
        run("no-such-registry.invalid", "--cluster", cluster.name)
    test = RegistryTest.objects.get()
    assert "DNS: the name no-such-registry.invalid does not exist" in test.reports[0]["summary"]


def test_an_unknown_cluster_or_a_refused_test_is_an_error(cluster):
    with pytest.raises(CommandError, match="no cluster named 'nope'"):
        run("--cluster", "nope")
    with pytest.raises(CommandError, match="has no saved registry to test"):
        run("--cluster", cluster.name)
    with pytest.raises(CommandError, match="is not an endpoint a pull from quay.io tries"):
        run("quay.io", "--cluster", cluster.name, "--endpoint", "https://elsewhere/v2")
