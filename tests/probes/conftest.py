"""Registry tests in the fast tier: the task runs in this process (eager), against the tiny registry
of tests/probes/servers.py; everything else is real (the database, the engine, the probe)."""

from __future__ import annotations

import pytest

from tests.conftest import require_binary
from tests.probes.servers import FakeRegistry, issue, make_ca, serve
from tests.pushes.conftest import push_worker  # noqa: F401  (the real tier's worker, shared with the pushes')


@pytest.fixture
def eager(settings):
    """Tasks run where they are queued, when the request's transaction commits."""
    import regui.probes.tasks  # noqa: F401  (registers the task, so eager mode applies to it)
    from regui.celery import app

    settings.REGUI_REGISTRY_TEST_TIMEOUT = 3
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture(scope="session")
def registry_ca():
    return make_ca("regui-fast-test-ca")


@pytest.fixture
def tls_registry(tmp_path, registry_ca):
    """A Basic-auth registry over TLS with `team/app:v1`, its certificate from `registry_ca`."""
    reg = FakeRegistry(auth="basic", manifests={"team/app:v1"})
    with serve(reg, cert=issue(registry_ca, "registry.fast.test"), workdir=tmp_path) as running:
        yield running


def save_registry(cluster, reg: FakeRegistry, *, password: str | None = None, ca_pem: str = "") -> None:
    """The cluster's saved configuration: `reg` as a registry config with its credentials and CA bundle."""
    from regui.registries.importing import registries_import
    from regui.registries.models import RegistryConfig

    auth = f'\n    auth: {{username: {reg.username}, password: "{password or reg.password}"}}'
    registries_import(cluster=cluster, text=f'configs:\n  "{reg.host}":{auth}\n', replace=True)
    if ca_pem:
        RegistryConfig.objects.filter(cluster=cluster, hostname=reg.host).update(ca_bundle=ca_pem)


@pytest.fixture(scope="session")
def harness_registry(tmp_path_factory):
    """The TLS + htpasswd registry with harness/tiny:v1 pushed to it."""
    from tests.harness.oci import write_tiny_image
    from tests.harness.registry import tls_registry

    binaries = {name: require_binary(name) for name in ("docker-registry", "skopeo", "htpasswd")}
    layout = write_tiny_image(tmp_path_factory.mktemp("oci") / "tiny", tag="v1")
    with tls_registry(binary=binaries["docker-registry"], htpasswd_bin=binaries["htpasswd"]) as reg:
        reg.push(layout, "harness/tiny", skopeo=binaries["skopeo"])
        reg.layout = layout
        yield reg


def save_harness_registry(cluster, reg, *, password: str | None = None, ca_pem: str | None = None) -> None:
    """The cluster's saved configuration: the harness registry with its credentials and its CA as the bundle."""
    from regui.registries.importing import registries_import
    from regui.registries.models import RegistryConfig

    registries_import(cluster=cluster, replace=True, text=(
        f'configs:\n  "{reg.host}":\n    auth: {{username: {reg.username}, password: "{password or reg.password}"}}\n'))
    RegistryConfig.objects.filter(hostname=reg.host).update(ca_bundle=ca_pem or reg.ca_path.read_text())
