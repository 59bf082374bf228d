"""Registry tests with real parts: a real docker-registry (TLS with a throw-away CA, htpasswd Basic auth,
tests/harness/registry.py) holding a real image, a real Celery worker taking the test from the
broker, and `manage.py test_registry` as a process."""

from __future__ import annotations

import json
import time

import pytest

from tests.probes.conftest import save_harness_registry
from tests.pushes.conftest import _database_url, push_worker_log

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def run_in_worker(cluster, registry: str, image: str, worker) -> object:
    from regui.probes.models import RegistryTest
    from regui.probes.services import registry_test_create

    test = registry_test_create(cluster=cluster, registry=registry, image=image)
    deadline = time.monotonic() + 60
    while test.is_active:
        assert time.monotonic() < deadline, f"test {test.pk} still {test.status}:\n" + push_worker_log(worker)
        time.sleep(0.1)
        test = RegistryTest.objects.get(pk=test.pk)
    return test


def text_of(test) -> str:
    return json.dumps(test.reports)


def test_good_credentials_find_the_manifest_through_a_real_worker(cluster, harness_registry, push_worker):
    save_harness_registry(cluster, harness_registry)
    test = run_in_worker(cluster, harness_registry.host, "harness/tiny:v1", push_worker)
    assert test.status == "passed", test.reports
    assert f"from https://{harness_registry.host}/v2 (the endpoint tested)" in test.summary
    assert harness_registry.layout.manifest.digest in test.summary, "the registry's own digest of the image"
    assert "a registry (registry/2.0) with the credentials" in text_of(test)
    assert harness_registry.password not in text_of(test) + test.summary
    methods = [(e.method, e.status) for e in harness_registry.access_log() if e.path.startswith("/v2/")]
    assert ("HEAD", 200) in methods


def test_bad_credentials_are_rejected(cluster, harness_registry, push_worker):
    save_harness_registry(cluster, harness_registry, password="Not-The-Password-1")
    test = run_in_worker(cluster, harness_registry.host, "harness/tiny:v1", push_worker)
    assert test.status == "failed"
    assert "the registry rejected the credentials of configs[" in test.summary
    assert "401 Unauthorized (UNAUTHORIZED: authentication required)" in test.summary
    assert "Not-The-Password-1" not in text_of(test) + test.summary


def test_a_wrong_ca_is_a_tls_failure_naming_the_certificate(cluster, harness_registry, push_worker, tmp_path):
    from tests.harness.registry import make_ca_and_server_cert

    other_ca, _, _ = make_ca_and_server_cert(tmp_path / "other")  # same CN, another key: not the issuer
    save_harness_registry(cluster, harness_registry, ca_pem=other_ca.read_text())
    mark = harness_registry.mark()
    test = run_in_worker(cluster, harness_registry.host, "harness/tiny:v1", push_worker)
    assert test.status == "failed"
    tls = test.reports[0]["steps"][-1]
    assert tls["what"] == "tls" and tls["outcome"] == "failed"
    assert "the certificate of 127.0.0.1:" in tls["text"]
    assert "subject CN=registry.harness.test, issued by CN=regui-harness-test-ca" in tls["text"]
    assert "for IP 127.0.0.1, DNS localhost" in tls["text"] or "for DNS localhost, IP 127.0.0.1" in tls["text"]
    assert "is not among the trusted CAs: the system CAs and the CA Cert Bundle of" in tls["text"]
    assert harness_registry.entries_since(mark) == [], "no request reached an untrusted registry"


def test_the_command_prints_json_from_its_own_process(cluster, harness_registry, settings):
    from tests.procs import app_env, manage

    save_harness_registry(cluster, harness_registry)
    env = app_env(settings.DATA_DIR, DATABASE_URL=_database_url())
    done = manage(env, "test_registry", harness_registry.host, "--cluster", cluster.name, "--image",
                  "harness/tiny:v1", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [(t["registry"], t["status"]) for t in out] == [(harness_registry.host, "passed")]
    assert out[0]["endpoints"][0]["steps"][-1]["what"] == "manifest"
    assert harness_registry.password not in done.stdout + done.stderr
