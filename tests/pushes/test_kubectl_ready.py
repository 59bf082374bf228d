"""Reading a server's kubectl for the Ready gate, pure (regui/remote/kube.py): one program lists every
node, and a node counts as Ready after its restart only with a heartbeat no older than the restart."""

from __future__ import annotations

from datetime import UTC, datetime

from regui.remote.kube import NodeReady, not_ready, parse_nodes, ready_program

RESTART = int(datetime(2026, 11, 29, 1, 0, 0, tzinfo=UTC).timestamp())


def test_k3s_asks_its_bundled_kubectl_and_rke2_its_own_with_its_kubeconfig_for_every_node_at_once():
    assert "\nk3s kubectl get nodes -o jsonpath='{range .items[*]}" in ready_program("k3s")
    rke2 = ready_program("rke2")
    assert "/var/lib/rancher/rke2/bin/kubectl --kubeconfig /etc/rancher/rke2/rke2.yaml get nodes" in rke2
    assert '.status.conditions[?(@.type=="Ready")].lastHeartbeatTime' in rke2


def test_the_listing_is_read_per_node_with_its_status_and_heartbeat():
    nodes = parse_nodes("s1\tTrue\t2026-11-29T01:00:05Z\na1\tFalse\t2026-11-29T00:59:00Z\na2\t\t\n\n")
    assert nodes["s1"] == NodeReady("True", RESTART + 5)
    assert nodes["a1"].status == "False" and nodes["a2"] == NodeReady("", None)


def test_a_node_is_ready_after_its_restart_only_when_kubernetes_heard_from_it_since():
    assert not_ready(NodeReady("True", RESTART + 3), RESTART) == ""
    assert not_ready(NodeReady("True", RESTART - 30), RESTART) == "Ready, but not reported since the restart"
    assert not_ready(NodeReady("False", RESTART + 3), RESTART) == "Ready is False"
    assert not_ready(NodeReady("", None), RESTART) == "Ready is not reported"
    assert not_ready(None, RESTART) == "Kubernetes has no node of that name"
    assert not_ready(NodeReady("True", None), None) == "", "no restart time known: Ready is enough"
