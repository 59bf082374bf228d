"""The node checks for real: harness nodes over SSH (the worker's push path), K3s played by the node's
restart (tests/harness/k3s.py writes certs.d as K3s does), a real registry on the bridge and a real
containerd inside the node, pulled from with the node's `k3s ctr`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import require_binary

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MIRROR = "mirror.harness.test"
IMAGE = f"{MIRROR}/harness/tiny:v1"
CERTS = "/var/lib/rancher/k3s/agent/etc/containerd/certs.d"


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.2)
    return found


def finished_readback(node):
    from regui.nodechecks.models import HostsReadback

    return HostsReadback.objects.filter(node=node).exclude(state__in=HostsReadback.ACTIVE).first()


@pytest.fixture
def registry(tmp_path):
    """Starts a registry on a harness's bridge address (where its nodes reach it) with the tiny image."""
    from tests.harness.oci import write_tiny_image
    from tests.harness.registry import plain_registry

    binaries = {name: require_binary(name) for name in ("docker-registry", "skopeo", "containerd", "ctr")}
    started = []

    def start(harness):
        context = plain_registry(binary=binaries["docker-registry"], address=harness.host_address)
        reg = context.__enter__()
        started.append(context)
        reg.push(write_tiny_image(tmp_path / "tiny-oci", tag="v1"), "harness/tiny", skopeo=binaries["skopeo"])
        return reg

    yield start
    for context in started:
        context.__exit__(None, None, None)


def use_mirror(stack, reg) -> None:
    from regui.registries.importing import registries_import

    registries_import(cluster=stack.cluster, replace=True,
                      text=f'mirrors:\n  "{MIRROR}":\n    endpoint: ["{reg.url}"]\n')


def test_a_pull_on_a_node_goes_through_the_mirror_and_regui_reports_the_endpoint_that_served_it(
        stack, nodes, registry, push_worker):
    from regui.nodechecks.models import PullTest
    from regui.nodechecks.services import pull_test_create
    from tests.harness import k3s

    h = nodes(1)
    reg = registry(h)
    use_mirror(stack, reg)
    k3s.install(h.nodes[0])
    (node,) = stack.add(h)
    stack.push()
    readback = wait_for("the read-back after the push", lambda: finished_readback(node))
    assert readback.state == "agrees", (readback.message, readback.dirs, h.nodes[0].read("/etc/regui-harness/on-restart.log"))
    mark = reg.mark()
    with k3s.node_containerd(h.nodes[0]):
        test = pull_test_create(node=node, image=IMAGE, user=stack.user)
        test = wait_for("the pull test", lambda: PullTest.objects.filter(pk=test.pk, state__in=["done", "failed"]).first(),
                        timeout=120)
        assert (test.state, test.pulled, test.used_tool, test.command) == ("done", True, "ctr", "k3s ctr"), (
            test.message, test.output)
        assert test.served_by == f"{reg.url}/v2/harness/tiny/manifests/v1?ns={MIRROR}"
        assert test.agreement == "agrees", test.agreement_text
        assert "attempt 1 served the image" in test.agreement_text
        assert test.image_outcome == "removed" and k3s.images(h.nodes[0]) == []
    manifests = [e for e in reg.entries_since(mark) if e.is_manifest]
    assert manifests and {e.remote for e in manifests} == {h.nodes[0].address}, "the node itself pulled"
    assert manifests[0].uri == f"/v2/harness/tiny/manifests/v1?ns={MIRROR}"


def test_the_read_back_agrees_after_a_push_and_shows_a_planted_difference(stack, nodes, registry, push_worker, client):
    from regui.nodechecks.models import PullTest
    from regui.nodechecks.services import pull_test_create
    from tests.harness import k3s

    h = nodes(2)
    use_mirror(stack, registry(h))
    one, two = h.nodes
    k3s.install(one)
    k3s.install(two, k3s_command=False)
    # The second node's K3s runs without the default endpoint: it says so in its own config file.
    two.write("/etc/rancher/k3s/config.yaml", "token: K10-not-for-regui\ndisable-default-registry-endpoint: true\n")
    first, second = stack.add(h)
    stack.push()
    readbacks = [wait_for(f"the read-back of {n.name}", lambda n=n: finished_readback(n)) for n in (first, second)]
    assert [r.state for r in readbacks] == ["agrees", "agrees"], [r.message for r in readbacks]
    assert readbacks[1].flags["disable-default-registry-endpoint"] == {
        "flag": "disable-default-registry-endpoint", "value": True,
        "source": "the node's /etc/rancher/k3s/config.yaml", "note": "differs from the cluster's setting in regui (off)"}
    assert b"server = " not in two.read(f"{CERTS}/{MIRROR}/hosts.toml")

    planted = one.read(f"{CERTS}/{MIRROR}/hosts.toml").replace(b'capabilities = ["pull", "resolve"]',
                                                               b'capabilities = ["pull"]')
    one.write(f"{CERTS}/{MIRROR}/hosts.toml", planted)
    client.force_login(stack.user)
    url = f"/clusters/{stack.cluster.name}/nodes/{first.pk}/checks/"
    assert client.post(url + "readback/").status_code == 302
    wait_for("the second read-back", lambda: finished_readback(first) and finished_readback(first).trigger == "manual")
    readback = finished_readback(first)
    assert readback.state == "differs"
    (differing,) = readback.differing
    assert [(k, t) for k, t, *_ in differing["lines"] if k != "ctx" and k != "hunk"] == [
        ("del", '  capabilities = ["pull", "resolve"]'), ("add", '  capabilities = ["pull"]')]
    text = client.get(url).content.decode()
    assert 'data-state="differs"' in text and "K10-not-for-regui" not in text

    # No pull command on the second node: detected, and said so.
    test = pull_test_create(node=second, image=IMAGE, user=stack.user)
    test = wait_for("the pull test", lambda: PullTest.objects.filter(pk=test.pk, state__in=["done", "failed"]).first())
    assert test.state == "failed" and test.message.startswith("The node has no pull command regui can use")
