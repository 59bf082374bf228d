"""Reading nodes from an Ansible inventory (INI or YAML, with the group names of the k3s Ansible roles) or from
`kubectl get nodes -o json`: parsed into candidates (pure: no database; regui/inventory/node_import.py checks, shows and adds them).

Roles: a host in `server`, `master`, `masters`, `k3s_server`, `control_plane` or `control-plane` (or a group
that is a child of one) is a server; one in `agent`, `agents`, `node`, `nodes`, `k3s_agent`, `worker` or
`workers` is an agent. `k3s_cluster` and `all` say nothing about the role: a host only there is reported.
`ansible_host`, `ansible_port` and `ansible_user` are read from the host and from group vars (`[g:vars]`,
`vars:`), the host's own winning. kubectl: each node's InternalIP (else ExternalIP), and a server when it has
the `node-role.kubernetes.io/control-plane` or `node-role.kubernetes.io/master` label."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

import yaml

from .addresses import address_problem, user_problem
from .models import Node

SERVER_GROUPS = frozenset({"server", "servers", "master", "masters", "k3s_server", "k3s_servers", "control_plane",
                           "control-plane", "controlplane"})
AGENT_GROUPS = frozenset({"agent", "agents", "node", "nodes", "k3s_agent", "k3s_agents", "worker", "workers"})
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
FORMATS = {"ini": "Ansible inventory (INI)", "yaml": "Ansible inventory (YAML)", "kubectl": "kubectl get nodes -o json"}
_NAME_MAX = 63
GROUP_DEPTH_MAX = 50  # Ansible inventories nest a few levels; this bounds the walk, not real files
GROUP_VISITS_MAX = 10_000


@dataclass
class Candidate:
    name: str
    address: str
    port: int
    role: str
    ssh_user: str = ""  # "" : the form's default
    origin: str = ""  # where it came from, e.g. "line 4" or the host name in the file
    proxy_jump: str = ""  # the first hop of its `-J` / ProxyJump, as written
    jump_host: str = ""  # the regui jump host at that address, if there is one


@dataclass
class Parsed:
    format: str
    nodes: list[Candidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # lines or hosts left out, and why
    skipped: list[str] = field(default_factory=list)  # already in the cluster
    notes: list[str] = field(default_factory=list)  # added, but not quite as the file says
    elsewhere: list[str] = field(default_factory=list)  # added, and already a node of another cluster

    @property
    def format_label(self) -> str:
        return FORMATS.get(self.format, self.format)

    @property
    def names_jump_hosts(self) -> bool:
        return any(c.jump_host for c in self.nodes)


def detect(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")) and not re.match(r"\[[^\]\n]*\]\s*\n", stripped):
        return "kubectl"
    first = next((ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith(("#", ";"))), "")
    if first == "---" or first.startswith(("--- ", "%YAML")):  # k3s-ansible's inventory-sample.yml starts so
        return "yaml"
    return "ini" if first.startswith("[") or "=" in first.split(":", 1)[0] or ":" not in first else "yaml"


def node_name(raw: str) -> str:
    """An inventory name as a node name: what a slug cannot hold becomes `-` (10.0.0.1 -> 10-0-0-1)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", raw).strip("-")[:_NAME_MAX]


def _role(groups: set[str]) -> str:
    if groups & SERVER_GROUPS:
        return Node.Role.SERVER
    if groups & AGENT_GROUPS:
        return Node.Role.AGENT
    return ""


def _port(value: Any) -> int | None:
    try:
        port = int(str(value))
    except ValueError:
        return None
    return port if 1 <= port <= 65535 else None


def _candidate(parsed: Parsed, host: str, hostvars: dict[str, Any], groups: set[str], origin: str) -> None:
    role = _role(groups)
    if not role:
        parsed.problems.append(f"{origin}: {host} is in no server or agent group "
                               f"({', '.join(sorted(groups)) or 'none'}): left out")
        return
    port = _port(hostvars.get("ansible_port", 22))
    if port is None:
        parsed.problems.append(f"{origin}: {host}: ansible_port {hostvars.get('ansible_port')!r} is not a port: left out")
        return
    name = node_name(host)
    address = str(hostvars.get("ansible_host") or host)
    if not name or address_problem(address.strip("[]")):
        parsed.problems.append(f"{origin}: {host}: not a usable name or address: left out")
        return
    user = str(hostvars.get("ansible_user") or "")
    if user and (problem := user_problem(user)):
        parsed.problems.append(f"{origin}: {host}: SSH user {user[:70]!r} refused ({problem.rstrip('.')}): left out")
        return
    parsed.nodes.append(Candidate(name, address.strip("[]"), port, role, user, origin, proxy_jump(hostvars)))


def proxy_jump(hostvars: dict[str, Any]) -> str:
    """The first hop of `-J hop` or `-o ProxyJump=hop` in ansible_ssh_extra_args, else ansible_ssh_common_args
    (extra args are the ones set for a host or a play in particular)."""
    for key in ("ansible_ssh_extra_args", "ansible_ssh_common_args"):
        try:
            words = shlex.split(str(hostvars.get(key) or ""))
        except ValueError:
            continue
        for i, word in enumerate(words):
            hop = (words[i + 1] if word == "-J" and i + 1 < len(words) else word[2:] if word.startswith("-J")
                   else m[1] if (m := re.fullmatch(r"(?:-o)?ProxyJump[=\s]+(\S+)", word, re.IGNORECASE)) else "")
            if hop and hop.lower() != "none":
                return hop.split(",")[0]
    return ""


def jump_address(hop: str) -> tuple[str, int]:
    """`[user@]host[:port]` or `ssh://[user@]host[:port]` -> (host, port)."""
    host = hop.removeprefix("ssh://").rpartition("@")[2]
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        return host, _port(rest.lstrip(":") or 22) or 22
    name, _, port = host.partition(":")
    return name, _port(port or 22) or 22


# --- INI ---------------------------------------------------------------------------------------------

def _ini_vars(words: list[str]) -> dict[str, str]:
    return dict(w.split("=", 1) for w in words if "=" in w)


def parse_ini(text: str) -> Parsed:
    parsed = Parsed("ini")
    hosts: dict[str, tuple[dict[str, str], set[str], str]] = {}  # host -> (vars, direct groups, origin)
    children: dict[str, set[str]] = {}  # group -> its child groups
    group_vars: dict[str, dict[str, str]] = {}
    group, section = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if m := re.fullmatch(r"\[([^\]:]+)(?::(children|vars))?\]", line):
            group, section = m[1], m[2] or "hosts"
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            parsed.problems.append(f"line {number}: {exc}: {raw.strip()!r}")
            continue
        if not words:
            continue
        if section == "children":
            children.setdefault(group, set()).add(words[0])
        elif section == "vars":
            if "=" not in line:
                parsed.problems.append(f"line {number}: expected key=value in [{group}:vars], got {raw.strip()!r}")
                continue
            key, _, value = line.partition("=")
            group_vars.setdefault(group, {})[key.strip()] = value.strip().strip("'\"")
        elif re.search(r"\[[^\]]*:[^\]]*\]", words[0]):
            parsed.problems.append(f"line {number}: host ranges ({words[0]}) are not expanded: list the hosts")
        elif bad := [w for w in words[1:] if "=" not in w]:
            parsed.problems.append(f"line {number}: expected `host key=value ...`, got {bad[0]!r}")
        else:
            entry = hosts.setdefault(words[0], ({}, set(), f"line {number}"))
            entry[0].update(_ini_vars(words[1:]))
            entry[1].add(group)
    parents: dict[str, set[str]] = {}
    for parent, kids in children.items():
        for kid in kids:
            parents.setdefault(kid, set()).add(parent)
    for host, (hostvars, direct, origin) in hosts.items():
        groups = _ancestors(direct, parents)
        merged = {**group_vars.get("all", {})}
        # A child group's vars win over its parents' (fewer ancestors first), the host's over all.
        for g in sorted(groups - {"all"}, key=lambda g: (len(_ancestors({g}, parents)), g)):
            merged.update(group_vars.get(g, {}))
        _candidate(parsed, host, {**merged, **hostvars}, groups, origin)
    return parsed


def _ancestors(groups: set[str], parents: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), list(groups)
    while todo:
        g = todo.pop()
        if g not in seen:
            seen.add(g)
            todo += parents.get(g, ())
    return seen


# --- YAML --------------------------------------------------------------------------------------------

def parse_yaml(text: str) -> Parsed:
    parsed = Parsed("yaml")
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        parsed.problems.append("not an inventory: nested deeper than regui reads")
        return parsed
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        parsed.problems.append(f"{where}not YAML: {getattr(exc, 'problem', exc)}")
        return parsed
    if not isinstance(data, dict):
        parsed.problems.append("not an Ansible inventory: expected groups (e.g. `all:` or `k3s_cluster:`) at the top")
        return parsed
    found: dict[str, tuple[dict[str, Any], set[str]]] = {}
    budget = [GROUP_VISITS_MAX]
    for name, group in data.items():
        _walk(parsed, str(name), group, {}, set(), found, (), budget)
    for host, (hostvars, groups) in found.items():
        _candidate(parsed, host, hostvars, groups, host)
    return parsed


def _walk(parsed: Parsed, name: str, group: Any, inherited: dict[str, Any], chain: set[str],
          found: dict[str, tuple[dict[str, Any], set[str]]], path: tuple[int, ...] = (),
          budget: list[int] | None = None) -> None:
    """`path`: the mappings above this group (YAML anchors can make a group its own child); `budget`:
    groups left to visit (anchors can also multiply them: 9 aliases of 9 aliases of ...)."""
    budget = [GROUP_VISITS_MAX] if budget is None else budget
    if group is None:
        return
    if not isinstance(group, dict):
        parsed.problems.append(f"group {name}: expected hosts:, children: or vars:, got {type(group).__name__}")
        return
    if id(group) in path or len(path) >= GROUP_DEPTH_MAX:
        parsed.problems.append(f"group {name}: contains itself, or groups nested over {GROUP_DEPTH_MAX} deep: "
                               "left out")
        return
    budget[0] -= 1
    if budget[0] < 0:
        if budget[0] == -1:
            parsed.problems.append(f"more than {GROUP_VISITS_MAX} groups (YAML aliases counted each time they "
                                   f"are used): the groups after {name} are left out")
        return
    groups = {*chain, name}
    for part in ("vars", "hosts", "children"):
        if group.get(part) is not None and not isinstance(group[part], dict):
            parsed.problems.append(f"group {name}: expected {part}: as a mapping, got {type(group[part]).__name__}: "
                                   "group left out")
            return
    gvars = {**inherited, **(group.get("vars") or {})}
    for host, hostvars in (group.get("hosts") or {}).items():
        if hostvars is not None and not isinstance(hostvars, dict):
            parsed.problems.append(f"host {host} in {name}: expected its vars as a mapping")
            continue
        old_vars, old_groups = found.get(str(host), ({}, set()))
        found[str(host)] = ({**old_vars, **gvars, **(hostvars or {})}, old_groups | groups)
    for child, sub in (group.get("children") or {}).items():
        _walk(parsed, str(child), sub, gvars, groups, found, (*path, id(group)), budget)


# --- kubectl -----------------------------------------------------------------------------------------

def parse_kubectl(text: str) -> Parsed:
    parsed = Parsed("kubectl")
    try:
        data = json.loads(text)
    except RecursionError:
        parsed.problems.append("not the output of `kubectl get nodes -o json`: nested deeper than regui reads")
        return parsed
    except json.JSONDecodeError as exc:
        parsed.problems.append(f"line {exc.lineno}: not JSON: {exc.msg}")
        return parsed
    items = data.get("items") if isinstance(data, dict) and data.get("kind") != "Node" else [data]
    if not isinstance(items, list):
        parsed.problems.append("not the output of `kubectl get nodes -o json` (no items)")
        return parsed
    for i, item in enumerate(items, 1):
        meta = _mapping(item, "metadata")
        host = str(meta.get("name") or "")
        status = _mapping(item, "status")
        listed = status.get("addresses")
        listed = listed if isinstance(listed, list) else []
        addresses = {a.get("type"): a.get("address") for a in listed if isinstance(a, dict)}
        address = addresses.get("InternalIP") or addresses.get("ExternalIP")
        if not host or not address or not isinstance(address, str):
            parsed.problems.append(f"item {i} ({host or 'no name'}): no InternalIP address: left out")
            continue
        labels = _mapping(item, "metadata", "labels")
        server = any(label in labels for label in CONTROL_PLANE_LABELS)
        _candidate(parsed, host, {"ansible_host": address}, {"server" if server else "agent"}, f"item {i}")
    return parsed


def _mapping(value: Any, *keys: str) -> dict[str, Any]:
    """value[k1][k2]... when each step is a mapping, else {} (a file of another shape says nothing)."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


PARSERS = {"ini": parse_ini, "yaml": parse_yaml, "kubectl": parse_kubectl}
