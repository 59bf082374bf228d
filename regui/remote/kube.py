"""Whether Kubernetes reports nodes Ready, read with a server's bundled kubectl. Pure Python, no Django.

The program runs on a server over the same one-exec SSH path as a push (as root: the kubeconfig is
root's): `k3s kubectl`, or RKE2's /var/lib/rancher/rke2/bin/kubectl with /etc/rancher/rke2/rke2.yaml.
It lists every node once (one call, whatever the number asked about; `get node NAME` with a single
name answers an object, not a list) with its Ready condition and that condition's last heartbeat.

A node counts as Ready after a restart only when the condition is True *and* its heartbeat is not
older than the restart: right after a restart the node object still shows the kubelet's last report
from before it, Ready for up to a minute whatever happens next. The kubelet posts its status as soon
as it starts, with a fresh heartbeat (the node's own clock, the one the restart time was read on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

KUBECTL = {
    "k3s": "k3s kubectl",
    "rke2": "/var/lib/rancher/rke2/bin/kubectl --kubeconfig /etc/rancher/rke2/rke2.yaml",
}
_READY = '.status.conditions[?(@.type=="Ready")]'
JSONPATH = ('{range .items[*]}{.metadata.name}{"\\t"}{' + _READY + '.status}{"\\t"}{' + _READY
            + '.lastHeartbeatTime}{"\\n"}{end}')


def ready_program(distro: str) -> str:
    """List every node's Ready status and heartbeat, one `name<TAB>status<TAB>time` line each."""
    kubectl = KUBECTL.get(distro, KUBECTL["k3s"])
    return f"main() {{\n{kubectl} get nodes -o jsonpath='{JSONPATH}'\n}}\nmain\n"


@dataclass(frozen=True)
class NodeReady:
    status: str  # "True", "False", "Unknown", or "" when the node has no Ready condition
    heartbeat: float | None  # seconds since the epoch


def parse_nodes(stdout: str) -> dict[str, NodeReady]:
    nodes = {}
    for line in stdout.splitlines():
        name, _, rest = line.partition("\t")
        status, _, stamp = rest.partition("\t")
        if name.strip():
            nodes[name.strip()] = NodeReady(status.strip(), _epoch(stamp.strip()))
    return nodes


def _epoch(stamp: str) -> float | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if stamp else None
    except ValueError:
        return None


def not_ready(state: NodeReady | None, restarted_at: int | None) -> str:
    """Why the node does not count as Ready after its restart at `restarted_at` ("" when it does)."""
    if state is None:
        return "Kubernetes has no node of that name"
    if state.status != "True":
        return f"Ready is {state.status or 'not reported'}"
    if restarted_at is not None and (state.heartbeat is None or state.heartbeat < restarted_at):
        return "Ready, but not reported since the restart"
    return ""
