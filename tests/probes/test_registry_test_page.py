"""The Registries page's "Test a registry": the panel of saved registries and their endpoints, starting
a test (operators), its live result, its history entry; never a secret anywhere. Fast tier: the task
runs in this process against a tiny registry on 127.0.0.1 (tests/probes/servers.py)."""

from __future__ import annotations

import html

import pytest

from regui.audit.models import AuditEvent
from regui.probes.models import RegistryTest
from tests.probes.conftest import save_registry

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def panel(client, cluster) -> str:
    return html.unescape(client.get(f"/clusters/{cluster.name}/registries/test/", **HX).content.decode())


def start(client, cluster, **data) -> str:
    return html.unescape(client.post(f"/clusters/{cluster.name}/registries/test/start/", data, **HX).content.decode())


def result(client, test) -> str:
    return html.unescape(client.get(f"/registry-tests/{test.pk}/", **HX).content.decode())


def test_the_registries_page_loads_the_test_panel_by_itself(viewer_client, cluster):
    page = viewer_client.get(f"/clusters/{cluster.name}/").content.decode()
    assert 'id="registry-test"' in page and f'hx-get="/clusters/{cluster.name}/registries/test/"' in page


def test_the_panels_url_opened_by_itself_is_a_whole_page_and_for_htmx_only_the_panel(viewer_client, cluster):
    page = viewer_client.get(f"/clusters/{cluster.name}/registries/test/").content.decode()
    fragment = panel(viewer_client, cluster)
    assert "<html" in page and "Test a registry" in page and f'href="/clusters/{cluster.name}/"' in page
    assert "<html" not in fragment and "Test a registry" in fragment


def test_the_panel_lists_each_saved_registry_with_its_endpoints_in_pull_order(viewer_client, cluster):
    from regui.registries.importing import registries_import

    registries_import(cluster=cluster, replace=True, text=(
        'mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com:5000", "https://second.example.com"]\n'
        'configs:\n  "mirror.example.com:5000":\n    auth: {username: robot, password: "hunter2-secret"}\n'))
    text = panel(viewer_client, cluster)
    row = text[text.index('data-registry="docker.io"'):text.index('data-registry="mirror.example.com:5000"')]
    assert row.index("https://mirror.example.com:5000/v2") < row.index("https://second.example.com/v2") \
        < row.index("https://registry-1.docker.io/v2")
    assert 'credentials: configs["mirror.example.com:5000"] (secret ' in row and "credentials: none" in row
    assert "saved</strong> configuration (revision 1)" in text and "unsaved changes in the form are not tested" in text
    assert "hunter2-secret" not in text
    assert "<button" not in text, "a viewer sees the endpoints, not the buttons"


def test_an_operator_gets_a_test_button_per_registry_and_per_endpoint(operator_client, cluster):
    from regui.registries.importing import registries_import

    registries_import(cluster=cluster, replace=True,
                      text='mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com:5000"]\n')
    text = panel(operator_client, cluster)
    assert text.count(">Test</button>") == 1 and text.count(">Test this endpoint</button>") == 2
    assert 'name="endpoint" value="https://mirror.example.com:5000/v2"' in text


def test_a_viewer_cannot_start_a_test(viewer_client, cluster, tls_registry, registry_ca):
    save_registry(cluster, tls_registry, ca_pem=registry_ca.pem)
    response = viewer_client.post(f"/clusters/{cluster.name}/registries/test/start/",
                                  {"registry": tls_registry.host}, **HX)
    assert response.status_code == 403 and not RegistryTest.objects.exists()


def test_a_test_queues_only_its_id_and_records_who_started_it(operator_client, cluster, tls_registry, registry_ca,
                                                             monkeypatch, django_capture_on_commit_callbacks):
    from regui.probes import services

    sent = []

    class App:
        def signature(self, name, args):
            sent.append((name, args))
            return type("Sig", (), {"delay": lambda self: None})()

    monkeypatch.setattr(services, "current_app", App())
    save_registry(cluster, tls_registry, ca_pem=registry_ca.pem)
    with django_capture_on_commit_callbacks(execute=True):
        text = start(operator_client, cluster, registry=tls_registry.host, image="team/app:v1")
    test = RegistryTest.objects.get()
    assert sent == [("regui.registry_test_run", [test.pk])]
    assert (test.status, test.created_by_name, test.image, test.revision) == ("queued", "olivia", "team/app:v1", 1)
    assert f'hx-get="/registry-tests/{test.pk}/" hx-trigger="every 1s"' in text, "the page polls the result"
    entry = AuditEvent.objects.get(action="registry_test")
    assert (entry.actor_name, entry.cluster_name, entry.object_type) == ("olivia", cluster.name, "registry_test")
    assert entry.changes == {"registry": [None, tls_registry.host], "endpoint": [None, "all"],
                             "image": [None, "team/app:v1"]}
    history = operator_client.get(f"/clusters/{cluster.name}/history/").content.decode()
    assert "tested a registry" in history


def test_good_credentials_find_the_image_and_the_page_shows_each_step(operator_client, cluster, tls_registry,
                                                                      registry_ca, eager,
                                                                      django_capture_on_commit_callbacks):
    save_registry(cluster, tls_registry, ca_pem=registry_ca.pem)
    with django_capture_on_commit_callbacks(execute=True):
        start(operator_client, cluster, registry=tls_registry.host, image="team/app:v1")
    test = RegistryTest.objects.get()
    assert test.status == "passed", test.reports
    text = result(operator_client, test)
    assert "hx-trigger" not in text, "a finished test is not polled"
    assert f"Works: a pull of {tls_registry.host}/team/app:v1 gets its manifest (sha256:" in text
    assert f"from https://{tls_registry.host}/v2 (the endpoint tested)" in text
    assert "issued by CN=regui-fast-test-ca" in text and "the CA Cert Bundle of" in text
    assert "sending the credentials of configs[" in text and "the manifest is there (sha256:" in text
    assert tls_registry.password not in text and tls_registry.password not in str(test.reports)


def test_bad_credentials_are_said_rejected(operator_client, cluster, tls_registry, registry_ca, eager,
                                           django_capture_on_commit_callbacks):
    save_registry(cluster, tls_registry, password="Wrong-Password-9", ca_pem=registry_ca.pem)
    with django_capture_on_commit_callbacks(execute=True):
        start(operator_client, cluster, registry=tls_registry.host)
    test = RegistryTest.objects.get()
    page = operator_client.get(f"/registry-tests/{test.pk}/").content.decode()
    assert test.status == "failed" and "the registry rejected the credentials of configs[" in test.summary
    assert "Wrong-Password-9" not in page and "Wrong-Password-9" not in str(test.reports)


def test_the_worker_task_returns_a_status_word_and_runs_a_test_once(cluster, tls_registry, registry_ca, settings):
    from regui.probes.services import registry_test_create
    from regui.probes.tasks import registry_test_run_task

    settings.REGUI_REGISTRY_TEST_TIMEOUT = 3
    save_registry(cluster, tls_registry, ca_pem=registry_ca.pem)
    test = registry_test_create(cluster=cluster, registry=tls_registry.host, enqueue=False)
    assert registry_test_run_task(test.pk) == "passed"
    seen = len(tls_registry.seen)
    assert registry_test_run_task(test.pk) == "passed" and len(tls_registry.seen) == seen, "not run again"


def test_a_registry_the_saved_configuration_does_not_name_is_not_tested(operator_client, cluster):
    text = start(operator_client, cluster, registry="evil.example.com")
    assert "Not tested: evil.example.com is not a registry of the saved configuration" in text
    assert not RegistryTest.objects.exists()


def test_an_image_of_another_registry_is_not_tested(operator_client, cluster):
    from regui.registries.importing import registries_import

    registries_import(cluster=cluster, replace=True,
                      text='mirrors:\n  internal:\n    endpoint: ["https://m.example.com"]\n')
    text = start(operator_client, cluster, registry="internal", image="app:v1")
    assert "Not tested: app:v1 is not an image of internal: containerd pulls it from docker.io" in text


def test_a_secret_of_another_cluster_is_never_sent(cluster, tls_registry, registry_ca, settings):
    from regui.probes.services import registry_test_create, registry_test_run
    from regui.registries.models import Cluster, RegistryConfig, Secret

    save_registry(cluster, tls_registry, ca_pem=registry_ca.pem)
    other = Cluster.objects.create(name="other")
    Secret.objects.filter(cluster=cluster).update(cluster=other)  # what the saves refuse, gone around them
    assert RegistryConfig.objects.get().auth_secret.cluster == other
    test = registry_test_run(registry_test_create(cluster=cluster, registry=tls_registry.host, enqueue=False).pk)
    assert test.status == "refused" and "belong to another cluster" in test.summary
    assert tls_registry.seen == [], "nothing reached the registry"


def test_test_this_endpoint_tries_that_endpoint_only(operator_client, cluster, eager,
                                                     django_capture_on_commit_callbacks):
    from regui.registries.importing import registries_import
    from tests.probes.servers import FakeRegistry, serve

    with serve(FakeRegistry(manifests={"library/app:v1"})) as first, serve(FakeRegistry()) as second:
        registries_import(cluster=cluster, replace=True, text=(
            f'mirrors:\n  docker.io:\n    endpoint: ["{first.url}", "{second.url}"]\n'))
        with django_capture_on_commit_callbacks(execute=True):
            start(operator_client, cluster, registry="docker.io", endpoint=f"{second.url}/v2", image="app:v1")
    test = RegistryTest.objects.get()
    assert [r["label"] for r in test.reports] == [f"2. mirror {second.url}/v2"]
    assert test.status == "failed" and "Fails: no endpoint gives docker.io/library/app:v1." in test.summary
    assert first.seen == [] and [s.path for s in second.seen] == ["/v2/", "/v2/library/app/manifests/v1?ns=docker.io"]


@pytest.mark.parametrize("data", [{}, {"registry": "a\0b"}, {"registry": "docker.io", "image": "x" * 5000},
                                  {"registry": "docker.io", "endpoint": "\0"}, {"registry": "docker.io", "image": "UPPER:case"}])
def test_odd_input_is_said_not_tested_never_an_error_page(operator_client, cluster, data):
    from regui.registries.importing import registries_import

    registries_import(cluster=cluster, replace=True, text='mirrors:\n  docker.io:\n    endpoint: ["https://m.example.com"]\n')
    response = operator_client.post(f"/clusters/{cluster.name}/registries/test/start/", data, **HX)
    assert response.status_code == 400 and "Not tested: " in response.content.decode()
    assert not RegistryTest.objects.exists()


def test_the_clusters_agent_flags_shape_the_endpoints_as_k3s_does(viewer_client, cluster):
    from regui.registries.importing import registries_import

    registries_import(cluster=cluster, replace=True,
                      text='mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com:5000"]\n')
    cluster.disable_default_registry_endpoint = cluster.embedded_registry = True
    cluster.save()
    text = panel(viewer_client, cluster)
    row = text[text.index('data-registry="docker.io"'):]
    assert "https://127.0.0.1:6443/v2" in row, "the embedded registry first, as K3s injects it"
    assert "registry-1.docker.io" not in row, "no default endpoint with --disable-default-registry-endpoint"
