"""Read settings from a server, for real: a harness node's sshd (host key pinned), the real Celery worker
running the read, the node's own shell reading its K3s config files, and a stand-in for K3s's bundled
kubectl (`k3s kubectl`, on the node's PATH) answering the kubernetes service's IPv6 ClusterIP."""

from __future__ import annotations

import time

import pytest
from django.test import Client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# `k3s kubectl` of a K3s server whose service network is IPv6 first (dual-stack, IPv6 listed first).
K3S = """#!/bin/sh
[ "$1" = kubectl ] || { echo "k3s (regui test): only 'k3s kubectl' is here" >&2; exit 1; }
shift
echo "$*" >> /tmp/kubectl.log
case " $* " in
  *" get service kubernetes "*) printf 'fd00:43::1';;
  *) echo "k3s kubectl (regui test): not faked: $*" >&2; exit 1;;
esac
"""


def test_a_real_server_says_its_service_network_is_ipv6_first_and_which_flags_its_config_files_set(stack, nodes):
    from regui.nodechecks.server_settings import settings_read_request
    from regui.registries.models import Cluster

    h = nodes(1)
    hn = h.nodes[0]
    rc, out = hn.exec_as_root("mountpoint -q /usr/local/bin || mount -t tmpfs -o mode=0755 tmpfs /usr/local/bin")
    assert rc == 0, out
    hn.write("/usr/local/bin/k3s", K3S, 0o755)
    hn.write("/etc/rancher/k3s/config.yaml", "token: harness-cluster-token\nembedded-registry: true\n", 0o600)
    hn.write("/etc/rancher/k3s/config.yaml.d/90-registries.yaml", "disable-default-registry-endpoint: 'true'\n", 0o600)
    stack.add(h, roles=["server"])

    read = settings_read_request(cluster=stack.cluster, user=stack.user)
    deadline = time.monotonic() + 60
    while read.is_active:
        assert time.monotonic() < deadline, f"the read is still {read.state} after 60 s"
        time.sleep(0.2)
        read.refresh_from_db()
    assert read.state == "done", read.message
    assert read.cluster_ip == "fd00:43::1"
    assert {k: v["value"] for k, v in read.found.items()} == {
        "ipv6_primary": True, "embedded_registry": True, "disable_default_registry_endpoint": True}
    assert read.found["disable_default_registry_endpoint"]["source"] == (
        "/etc/rancher/k3s/config.yaml.d/90-registries.yaml: disable-default-registry-endpoint: 'true'")
    assert "harness-cluster-token" not in str(read.found) + read.message
    assert (hn.read("/tmp/kubectl.log") or b"").decode().startswith("get service kubernetes --namespace default")

    client = Client()
    client.force_login(stack.user)
    shown = client.get(f"/clusters/{stack.cluster.name}/server-settings/", HTTP_HX_REQUEST="true")
    applied = client.post(f"/clusters/{stack.cluster.name}/server-settings/apply/",
                          {"version": shown.context["version"]}, HTTP_HX_REQUEST="true")
    assert applied.status_code == 200, applied.content.decode()[:500]
    cluster = Cluster.objects.get(pk=stack.cluster.pk)
    assert (cluster.ipv6_primary, cluster.embedded_registry, cluster.disable_default_registry_endpoint) == (
        True, True, True)
