"""A server's bundled kubectl on a fake node (tests/fakes/ssh.py), for the Ready gate: `k3s kubectl`
(`bin/k3s`, which tests/fakes/k3s.py replaces with one that forwards `kubectl` here too) and RKE2's
/var/lib/rancher/rke2/bin/kubectl. `get nodes` lists every fake node of the fleet (FLEET) with its Ready
condition, from each node's systemctl.env and systemctl.log. Every call is logged in ROOT/kubectl.log;
ROOT/kubectl.fails makes it fail with that text (an API server that is not up). `get service kubernetes`
answers the service's ClusterIP: ROOT/cluster-ip (`set_cluster_ip`), else 10.43.0.1.
"""

from __future__ import annotations

import shlex
from typing import Any

# A node that never restarted, or whose restart ended less than READY_SECONDS ago, shows its report from
# before the restart (True, with an old heartbeat); later, True with a heartbeat READY_SECONDS after the
# restart; NOT_READY=1: False.
KUBECTL = r"""#!/bin/sh
[ "$1" = kubectl ] && shift
echo "$*" >> ROOT/kubectl.log
[ -f ROOT/kubectl.fails ] && { cat ROOT/kubectl.fails >&2; exit 1; }
case " $* " in
  *" get service kubernetes "*) if [ -f ROOT/cluster-ip ]; then cat ROOT/cluster-ip; else printf 10.43.0.1; fi; exit 0;;
esac
now=$(date +%s) old=2000-01-01T00:00:00Z
for d in FLEET/*/; do
  d=${d%/} && name=${d##*/}
  [ -f "$d/systemctl.env" ] || continue
  READY_SECONDS=0 NOT_READY=0
  . "$d/systemctl.env"
  end=$(awk '$4 == "restart" && $3 == "0" {e = $2} END {print e}' "$d/systemctl.log" 2>/dev/null)
  if [ "$NOT_READY" = 1 ]; then printf '%s\tFalse\t%s\n' "$name" "$(date -u -d @"$now" +%Y-%m-%dT%H:%M:%SZ)"
  elif [ -z "$end" ]; then printf '%s\tTrue\t%s\n' "$name" "$old"
  else
    ready=$(awk -v e="$end" -v r="$READY_SECONDS" 'BEGIN {x = e + r; printf "%d", (x == int(x)) ? x : int(x) + 1}')
    if [ "$now" -ge "$ready" ]; then printf '%s\tTrue\t%s\n' "$name" "$(date -u -d @"$ready" +%Y-%m-%dT%H:%M:%SZ)"
    else printf '%s\tTrue\t%s\n' "$name" "$old"; fi
  fi
done
"""

K3S = """#!/bin/sh
case "$1" in
  kubectl) shift; exec ROOT/bin/fake-kubectl "$@";;
  *) echo "fake k3s: $1 is not faked" >&2; exit 1;;
esac
"""


def install_kubectl(node: Any) -> None:
    """`k3s kubectl` and RKE2's kubectl on the node (a FakeNode: its `root` and `path()`)."""
    root, fleet = shlex.quote(str(node.root)), shlex.quote(str(node.root.parent))
    for path, text in ((node.root / "bin" / "fake-kubectl", KUBECTL), (node.root / "bin" / "k3s", K3S),
                       (node.path("/var/lib/rancher/rke2/bin/kubectl"), KUBECTL)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("ROOT", root).replace("FLEET", fleet))
        path.chmod(0o755)


def set_cluster_ip(node: Any, answer: str) -> None:
    """What the node's kubectl answers for the kubernetes service's ClusterIP (any text: a test may lie)."""
    (node.root / "cluster-ip").write_text(answer)
