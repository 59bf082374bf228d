"""K3s's side of a fake node (tests/fakes/ssh.py): the hosts.toml files it writes, its config file, and
its bundled `ctr` / `crictl`, for the node checks (regui/nodechecks) without K3s or containerd.

The fake `ctr` is a small program of its own, not regui's engine: it reads the hosts dir it is given
(`--hosts-dir`, as K3s's containerd reads certs.d), tries each host in file order, then the server,
answers from a table of hosts the test sets (`answers`), and logs each step as containerd 1.6's
resolver does with --debug (logrus text lines). So a wrong path, a missing --hosts-dir or a planted
hosts.toml shows in what it tries. Every call is recorded in ROOT/ctr-calls.log.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

from regui.k3s import generate_hosts
from regui.remote.probe import certs_dir
from tests.fakes.ssh import FakeNode

FAKE_CTR = r'''#!PYTHON
"""A fake ctr (see tests/fakes/k3s.py)."""
import json, os, sys, tomllib
ROOT = ROOT_PATH
state = json.load(open(os.path.join(ROOT, "ctr-state.json")))
args = sys.argv[1:]
with open(os.path.join(ROOT, "ctr-calls.log"), "a") as log:
    log.write(json.dumps(args) + "\n")
def save():
    json.dump(state, open(os.path.join(ROOT, "ctr-state.json"), "w"))
def q(text):
    return json.dumps(text)
def value(v):
    return q(v) if (not v or any(c in v for c in ' ":=')) else v
def line(level, msg, **fields):
    out = f'time="2026-01-01T00:00:00Z" level={level} msg={value(msg)}'
    for k, v in fields.items():
        out += f" {k}={value(v)}"
    print(out, file=sys.stderr)
if args == ["--version"]:
    print("ctr github.com/containerd/containerd (regui's fake)")
    sys.exit(0)
debug = False
while args and args[0].startswith("-"):
    flag = args.pop(0)
    if flag == "--debug":
        debug = True
    elif flag in ("-n", "--namespace", "-a", "--address"):
        args.pop(0)
if args[:2] == ["images", "ls"]:
    print("\n".join(state["images"]))
    sys.exit(0)
if args[:2] == ["images", "rm"]:
    state["images"] = [i for i in state["images"] if i != args[-1]]
    save()
    sys.exit(0)
if args[:2] != ["images", "pull"]:
    print(f"ctr: unknown command {args}", file=sys.stderr)
    sys.exit(1)
if "--help" in args:
    print("OPTIONS:\n   --hosts-dir value\n" + ("   --local  Fetch content from local client\n" if state["local"] else ""))
    sys.exit(0)
rest = args[2:]
hosts_dir = None
if "--hosts-dir" in rest:
    hosts_dir = rest[rest.index("--hosts-dir") + 1]
image = rest[-1]
registry, _, path = image.partition("/")
repo, _, tag = path.rpartition(":")
if "--local" in rest and not state["local"]:
    print("Incorrect Usage: flag provided but not defined: -local", file=sys.stderr)
    sys.exit(1)
doc = None
for name in (registry, "_default"):
    f = os.path.join(hosts_dir, name, "hosts.toml") if hosts_dir else ""
    if f and os.path.exists(f):
        doc = tomllib.load(open(f, "rb"))
        break
hosts = []
if doc is not None:
    for key in doc.get("host", {}):
        hosts.append(key)
    if "server" in doc or not hosts:
        hosts.append(doc.get("server") or "")
else:
    hosts.append("")
def url_of(h):
    if not h:
        h = "https://registry-1.docker.io" if registry == "docker.io" else "https://" + registry
    if not h.startswith("http"):
        h = "https://" + h
    scheme, _, hostpath = h.partition("://")
    host, _, p = hostpath.partition("/")
    p = "/" + p.rstrip("/") if p else ""
    if not p.endswith("/v2"):
        p += "/v2"
    ns = "" if host in (registry, "registry-1.docker.io") else "?ns=" + registry
    return host, f"{scheme}://{host}{p}/{repo}/manifests/{tag}{ns}"
line("debug", "fetching", image=image)
for h in hosts:
    host, url = url_of(h)
    answer = state["answers"].get(host, "refused")
    line("debug", "resolving", host=host)
    line("debug", "do request", host=host, **{"request.header.accept": "application/json, */*",
                                            "request.method": "HEAD", "url": url})
    if answer == "refused":
        line("info", "trying next host", error=f'failed to do request: Head "{url}": dial tcp {host}: connect: connection refused', host=host)
        continue
    line("debug", "fetch response received", host=host, **{"response.header.content-type": "application/json",
                                                          "response.status": answer, "url": url})
    if answer.startswith("200"):
        line("debug", "resolved", **{"desc.digest": "sha256:" + "ab" * 32, "host": host})
        if image not in state["images"]:
            state["images"].append(image)
        save()
        print(f"unpacking linux/amd64 sha256:{'ab' * 32}...\ndone: 1ms")
        sys.exit(0)
    if answer.startswith("404"):
        line("info", "trying next host - response was http.StatusNotFound", host=host)
    else:
        line("info", "trying next host", error=f"unexpected status from HEAD request to {url}: {answer}", host=host)
print(f'ctr: failed to resolve reference "{image}": not found', file=sys.stderr)
sys.exit(1)
'''

FAKE_CRICTL = r'''#!PYTHON
"""A fake crictl (see tests/fakes/k3s.py): pulls whatever it is asked to, says nothing of where from."""
import json, os, sys
ROOT = ROOT_PATH
state = json.load(open(os.path.join(ROOT, "ctr-state.json")))
args = [a for a in sys.argv[1:] if not a.startswith("--") and not a.startswith("unix://") and not a.endswith(".yaml")]
with open(os.path.join(ROOT, "ctr-calls.log"), "a") as log:
    log.write(json.dumps(["crictl", *sys.argv[1:]]) + "\n")
if sys.argv[1:] and sys.argv[-1] == "--version":
    print("crictl version (regui's fake)")
    sys.exit(0)
verb, image = args[0], args[-1]
if verb == "inspecti":
    sys.exit(0 if image in state["images"] else 1)
if verb == "rmi":
    state["images"] = [i for i in state["images"] if i != image]
elif verb == "pull":
    if not any(a.startswith("200") for a in state["answers"].values()):
        print(f'E0101 pulling image failed: rpc error: code = NotFound desc = failed to pull and unpack image "{image}"', file=sys.stderr)
        sys.exit(1)
    state["images"].append(image)
    print(f"Image is up to date for sha256:{'ab' * 32}")
json.dump(state, open(os.path.join(ROOT, "ctr-state.json"), "w"))
'''

K3S = """#!/bin/sh
case "$1" in
  ctr) shift; exec @ROOT@/bin/fake-ctr "$@";;
  crictl) shift; exec @ROOT@/bin/fake-crictl "$@";;
  kubectl) shift; exec @ROOT@/bin/fake-kubectl "$@";;
  *) echo "fake k3s: $1 is not faked" >&2; exit 1;;
esac
"""


def _script(node: FakeNode, path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace("#!PYTHON", f"#!{sys.executable}").replace("ROOT_PATH", repr(str(node.root)))
                    .replace("@ROOT@", shlex.quote(str(node.root))))
    path.chmod(0o755)


class FakeContainerd:
    """What the fake ctr/crictl of one node know: images present, how each host answers."""

    def __init__(self, node: FakeNode, *, local_flag: bool = True) -> None:
        self.node = node
        self._state = {"images": [], "answers": {}, "local": local_flag}
        self._save()

    def _save(self) -> None:
        (self.node.root / "ctr-state.json").write_text(json.dumps(self._state))

    def _load(self) -> dict:
        self._state = json.loads((self.node.root / "ctr-state.json").read_text())
        return self._state

    def answer(self, host: str, status: str) -> None:
        """How `host` (host[:port]) answers a manifest request: "200 OK", "404 Not Found", "refused", ..."""
        self._load()["answers"][host] = status
        self._save()

    def add_image(self, image: str) -> None:
        self._load()["images"].append(image)
        self._save()

    @property
    def images(self) -> list[str]:
        return list(self._load()["images"])

    def calls(self) -> list[list[str]]:
        log = self.node.root / "ctr-calls.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def install_k3s(node: FakeNode, *, local_flag: bool = True) -> FakeContainerd:
    """`k3s` on the node's PATH, with `k3s ctr` and `k3s crictl`."""
    _script(node, node.root / "bin" / "fake-ctr", FAKE_CTR)
    _script(node, node.root / "bin" / "fake-crictl", FAKE_CRICTL)
    _script(node, node.root / "bin" / "k3s", K3S)
    return FakeContainerd(node, local_flag=local_flag)


def install_rke2(node: FakeNode, *, ctr: bool = True, crictl: bool = True) -> FakeContainerd:
    """RKE2's bundled binaries under /var/lib/rancher/rke2/bin (no `rke2` on the PATH is needed)."""
    if ctr:
        _script(node, node.path("/var/lib/rancher/rke2/bin/ctr"), FAKE_CTR)
    if crictl:
        _script(node, node.path("/var/lib/rancher/rke2/bin/crictl"), FAKE_CRICTL)
    return FakeContainerd(node)


def write_hosts(node: FakeNode, yaml_text: str, distro: str = "k3s", *, disable_default_endpoint: bool = False,
                embedded_registry: bool = False, ipv6_primary: bool = False, later: bool = True) -> dict[str, str]:
    """certs.d as K3s writes it on start (by regui's model of it): what the node shows when its K3s agrees.
    `later`: dated a minute ahead, as if K3s wrote it when it restarted after the push wrote registries.yaml."""
    result = generate_hosts(yaml_text, program=distro, disable_default_endpoint=disable_default_endpoint,
                            embedded_registry=embedded_registry, ipv6_primary=ipv6_primary)
    assert result.parse_error is None, result.parse_error
    for name, text in result.hosts_dirs.items():
        path = f"{certs_dir(distro)}/{name}/hosts.toml"
        node.write(path, text.encode())
        if later:
            os.utime(node.path(path), (time.time() + 60, time.time() + 60))
    return result.hosts_dirs


def write_config(node: FakeNode, text: str, distro: str = "k3s", name: str = "") -> None:
    """The node's K3s config.yaml (or config.yaml.d/<name>)."""
    path = f"/etc/rancher/{distro}/config.yaml" + (f".d/{name}" if name else "")
    node.write(path, text.encode())
