"""Reading, on one server node, the cluster settings regui's engine depends on. Pure Python, no Django.

One POSIX shell program, sent on stdin over the push's one-exec SSH path (as root: the kubeconfig and
the config files are root's), and its parser:

- the `kubernetes` service's ClusterIP, asked of the distro's bundled kubectl (kube.py's `KUBECTL`, as
  the Ready gate runs it): it is the first address of the primary service CIDR, so the service network
  is IPv6 first exactly when it is an IPv6 address (K3s then serves the embedded registry at [::1]);
- the `embedded-registry` and `disable-default-registry-endpoint` keys of the distro's config files
  (probe.py's `flags`: config.yaml, then config.yaml.d/*.yaml by name, the last to set a key wins).
  Only the lines of those two keys leave the node: the files also hold the cluster token.

A value that cannot be read is said so (`Found.value` None, with the reason), never guessed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .kube import KUBECTL
from .probe import FLAGS, _common, _fill
from .probe_parse import NodeConfig, parse_config

SERVICE = "get service kubernetes --namespace default --request-timeout=20s -o 'jsonpath={.spec.clusterIP}'"
_RKE2_KUBECTL = "/var/lib/rancher/rke2/bin/kubectl"

_PROGRAM = r"""
main() {
@COMMON@
flags
clusterip
say "RG-DONE"
}
clusterip() {
  if [ @DISTRO@ = rke2 ]; then
    [ -x @RKE2KUBECTL@ ] || { say "RG-KUBECTL missing"; return 0; }
  else
    command -v k3s >/dev/null 2>&1 || { say "RG-KUBECTL missing"; return 0; }
  fi
  err=$(mktemp 2>/dev/null) || { say "RG-ERROR cannot make a temporary file"; return 0; }
  out=$(@KUBECTL@ @SERVICE@ 2>"$err"); rc=$?
  say "RG-KUBECTL $rc"
  if [ $rc = 0 ]; then
    printf '%s\n' "$out" | head -n 3 | cut -c1-200 | while IFS= read -r line; do say "RG-CLUSTERIP $line"; done
  else
    tail -n 3 "$err" | cut -c1-300 | while IFS= read -r line; do say "RG-KUBECTL-ERROR $line"; done
  fi
  rm -f "$err"
}
main
"""


def settings_program(distro: str) -> str:
    """The flag lines of the config files, then the kubernetes service's ClusterIP (see the docstring)."""
    return _fill(_PROGRAM, COMMON=_common(distro), DISTRO="rke2" if distro == "rke2" else "k3s",
                 RKE2KUBECTL=_RKE2_KUBECTL, KUBECTL=KUBECTL.get(distro, KUBECTL["k3s"]), SERVICE=SERVICE)


# The cluster setting each config key is read into (registries.Cluster's field names).
SETTING_OF_FLAG = {"embedded-registry": "embedded_registry",
                   "disable-default-registry-endpoint": "disable_default_registry_endpoint"}
SETTINGS = ("ipv6_primary", *SETTING_OF_FLAG.values())
SOURCE_MAX = 600  # a finding's "where": a node's shell prints what it likes, whatever the program cuts


@dataclass(frozen=True)
class Found:
    """One setting as read on the server: `value` None when it could not be read (`source` says why)."""

    setting: str
    value: bool | None
    source: str


@dataclass
class ServerSettings:
    config: NodeConfig
    cluster_ip: str = ""
    found: dict[str, Found] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _kubectl_words(distro: str) -> str:
    return "k3s kubectl" if distro != "rke2" else _RKE2_KUBECTL


def _service_network(lines: list[str], distro: str) -> tuple[str, Found]:
    status: str | None = None
    answers: list[str] = []
    errors: list[str] = []
    for line in lines:
        word, _, rest = line.partition(" ")
        if word == "RG-KUBECTL":
            status = rest.strip()
        elif word == "RG-CLUSTERIP":
            answers.append(rest.strip())
        elif word == "RG-KUBECTL-ERROR":
            errors.append(rest.strip())
    kubectl = _kubectl_words(distro)

    def unread(why: str) -> tuple[str, Found]:
        return "", Found("ipv6_primary", None, why)

    if status is None:
        return unread("not read: the server's output has no answer from kubectl (the program stopped before it)")
    if status == "missing":
        where = "no `k3s` command" if distro != "rke2" else f"no {_RKE2_KUBECTL}"
        return unread(f"not read: the server has no bundled kubectl ({where}); is {distro} installed there, "
                      "and is it a server?")
    if status != "0":
        said = "; ".join(e for e in errors if e) or "no error message"
        return unread(f"not read: {kubectl} failed (exit status {status}): {said}")
    answer = " ".join(a for a in answers if a)
    try:
        address = ipaddress.ip_address(answer)
    except ValueError:
        return unread(f"not read: {kubectl} answered {answer[:200]!r} for the kubernetes service's ClusterIP, "
                      "which is not an IP address")
    family = "IPv6" if address.version == 6 else "IPv4"
    return str(address), Found("ipv6_primary", address.version == 6,
                               f"the kubernetes service's ClusterIP {address} is {family}")


def _flag(config: NodeConfig, flag: str) -> Found:
    setting = SETTING_OF_FLAG[flag]
    if (found := config.flags.get(flag)) is None:
        if not config.files:
            return Found(setting, False, f"no config file sets it (there is none): off, {flag}'s default")
        return Found(setting, False, f"no config file sets it: off, {flag}'s default")
    if found.value is None:
        return Found(setting, None, f"not read: {found.path} sets it to {found.raw!r}, which K3s does not read as "
                                    "true or false")
    return Found(setting, found.value, f"{found.path}: {flag}: {found.raw}")


def _bounded(found: Found) -> Found:
    if len(found.source) <= SOURCE_MAX:
        return found
    return Found(found.setting, found.value, found.source[:SOURCE_MAX - 1] + "…")


def parse_settings(stdout: str, distro: str) -> ServerSettings:
    """What the program printed, read; an output without its last line (a cut connection, a shell that
    is not one) reads nothing: a missing flag line would otherwise pass for a flag that is not set."""
    lines = stdout.splitlines()
    if "RG-DONE" not in lines:
        why = ("not read: the server's output ended before regui's program did" if any(
            line.startswith("RG-") for line in lines) else "not read: no line of regui's program came back from "
            f"the server (its output began {stdout.strip()[:120]!r})")
        return ServerSettings(NodeConfig(), "", {s: Found(s, None, why) for s in SETTINGS})
    config = parse_config(lines)
    cluster_ip, network = _service_network(lines, distro)
    report = ServerSettings(config, cluster_ip)
    found = {"ipv6_primary": network, **{SETTING_OF_FLAG[f]: _flag(config, f) for f in FLAGS}}
    report.found = {name: _bounded(f) for name, f in found.items()}
    report.errors = [line.partition(" ")[2] for line in lines if line.startswith("RG-ERROR ")]
    return report
