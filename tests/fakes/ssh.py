"""Fake nodes behind regui.remote.transport: push orchestration in-process, no root, sshd or worker.

Each FakeNode is a temp directory standing in for the node's `/`. A connection checks the pinned host
key and the credentials as ssh.connect does and raises ssh's own errors (same messages). An exec runs
the real node program (regui/remote/script.py) with `sh`, its absolute paths rebased into the node's
directory and a fake `systemctl` first on PATH, so what a push writes, backs up and restarts is the
program's doing, not the fake's (tests/fakes/node_shell.py runs it). Every connection, exec and restart is recorded with its wall-clock
time, so tests can assert restart order and concurrency.
"""

from __future__ import annotations

import base64
import os
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from regui.remote import ssh
from tests.fakes import jump as jumps
from tests.fakes.kubectl import install_kubectl
from tests.fakes.node_shell import bounded_run, rebase

# "<start> <end> <rc> <args...>" per call; behaviour from systemctl.env, changed between pushes.
SYSTEMCTL = r"""#!/bin/sh
start=$(date +%s.%N) rc=0 RESTART_SECONDS=0 RESTART_FAILS=0 IS_ACTIVE=active
. ROOT/systemctl.env
case $1 in
  restart) sleep "$RESTART_SECONDS"
    if [ "$RESTART_FAILS" = 1 ]; then rc=1; echo "Job for $2.service failed." >&2; fi;;
  is-active) echo "$IS_ACTIVE"; [ "$IS_ACTIVE" = active ] || rc=3;;
esac
printf '%s %s %s %s\n' "$start" "$(date +%s.%N)" "$rc" "$*" >> ROOT/systemctl.log
exit $rc
"""

Network = Literal["up", "refused", "timeout", "hung"]
ExecFault = Literal["", "no_answer", "lost", "bug"]


@dataclass(frozen=True)
class Span:
    start: float
    end: float

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Connect:
    at: float
    timeout: float
    retries: int
    backoff: float


@dataclass(frozen=True)
class Exec:
    node: str
    command: str
    span: Span
    status: int


@dataclass(frozen=True)
class Restart:
    node: str
    unit: str
    span: Span
    ok: bool


def max_overlap(spans: list[Span]) -> int:
    """The most spans running at one moment."""
    edges = sorted([(s.start, 1) for s in spans] + [(s.end, -1) for s in spans])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def _new_host_key() -> ssh.HostKey:
    blob = b"\0\0\0\x0bssh-ed25519\0\0\0 " + os.urandom(32)  # shaped like a real one
    return ssh.HostKey("ssh-ed25519", base64.b64encode(blob).decode())


@dataclass
class FakeNode:
    """One node. Change its behaviour between (or during) pushes through the fields and setters."""

    name: str
    address: str
    port: int
    root: Path
    username: str = "root"
    credential: str = ""
    host_key: ssh.HostKey = field(default_factory=_new_host_key)
    network: Network = "up"
    sudo: bool = True  # `sudo -n` works without a password
    shell: list[str] | None = None  # what runs instead of `sh -s` (a broken node)
    exec_fault: ExecFault = ""
    only_via: str = ""  # reachable only through this fake jump host (tests/fakes/jump.py)
    connects: list[Connect] = field(default_factory=list)  # logins (credential sent), and attempts
    handshakes: list[float] = field(default_factory=list)  # connections opened ahead, not logged in yet
    execs: list[Exec] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.credential = self.credential or f"-----BEGIN OPENSSH PRIVATE KEY-----\nfake {self.name}\n"
        (self.root / "bin").mkdir(parents=True)
        systemctl = self.root / "bin" / "systemctl"
        systemctl.write_text(SYSTEMCTL.replace("ROOT", shlex.quote(str(self.root))))
        systemctl.chmod(0o755)
        install_kubectl(self)
        self.set_systemctl()

    def set_systemctl(self, restart_seconds: float = 0, restart_fails: bool = False,
                      is_active: str = "active", ready_seconds: float = 0, not_ready: bool = False) -> None:
        """How its service restarts, and when Kubernetes reports it Ready after a restart."""
        (self.root / "systemctl.env").write_text(
            f"RESTART_SECONDS={restart_seconds:.3f}\nRESTART_FAILS={int(restart_fails)}\n"
            f"IS_ACTIVE={shlex.quote(is_active)}\nREADY_SECONDS={ready_seconds:.3f}\nNOT_READY={int(not_ready)}\n")

    def kubectl_calls(self) -> list[str]:
        """The arguments of each `kubectl` run on this node (as a server asked about the nodes)."""
        log = self.root / "kubectl.log"
        return log.read_text().splitlines() if log.exists() else []

    def break_kubectl(self, message: str = "The connection to the server 127.0.0.1:6443 was refused") -> None:
        (self.root / "kubectl.fails").write_text(message + "\n")

    def rotate_host_key(self) -> None:
        self.host_key = _new_host_key()

    def path(self, p: str) -> Path:
        return self.root / p.lstrip("/")

    def read(self, p: str) -> bytes | None:
        path = self.path(p)
        return path.read_bytes() if path.exists() else None

    def write(self, p: str, data: bytes) -> None:
        path = self.path(p)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def listdir(self, p: str) -> list[str]:
        path = self.path(p)
        return sorted(os.listdir(path)) if path.is_dir() else []

    def restarts(self, include_failed: bool = False) -> list[Restart]:
        log = self.root / "systemctl.log"
        lines = log.read_text().splitlines() if log.exists() else []
        calls = [line.split() for line in lines]
        return [Restart(self.name, args[1], Span(float(start), float(end)), rc == "0")
                for start, end, rc, *args in calls
                if args[:1] == ["restart"] and (include_failed or rc == "0")]

    def run(self, target: ssh.Target, command: str, stdin: bytes, timeout: float,
            on_output: Callable[[bytes], None] | None = None) -> ssh.ExecResult:
        if self.exec_fault == "no_answer":
            raise ssh.no_answer(timeout)
        if self.exec_fault == "lost":
            raise ssh.connection_lost("Socket is closed")
        if self.exec_fault == "bug":
            raise RuntimeError("the fake node broke")
        argv = shlex.split(command)
        if argv[:2] == ["sudo", "-n"]:
            if not self.sudo:
                return ssh.ExecResult(1, "", "sudo: a password is required\n")
            argv = argv[2:]
        if argv != ["sh", "-s"]:
            return ssh.ExecResult(127, "", f"sh: 1: {command}: not found\n")
        root = str(self.root)
        status, stdout, stderr = bounded_run(self.shell or ["sh", "-s"], rebase(stdin.decode(), root).encode(),
                                              root, timeout, on_output)
        out, err = stdout.decode(errors="replace"), stderr.decode(errors="replace")
        for line in out.splitlines():
            word, _, rest = line.partition(" ")
            # A path the rebase missed would have been written on this machine: stop loudly.
            if word in ("BEFORE", "AFTER", "BACKUP", "REMOVED", "KEPT", "STALE") and not rest.startswith(root + "/"):
                raise AssertionError(f"the fake node's rebase missed a path: {line}")
        return ssh.ExecResult(status, out.replace(root, ""), err.replace(root, ""))


class FakeSession:
    def __init__(self, node: FakeNode, target: ssh.Target) -> None:
        self.node, self.target = node, target

    def run(self, command: str, stdin: bytes = b"", timeout: float = 120,
            on_output: Callable[[bytes], None] | None = None) -> ssh.ExecResult:
        start = time.time()
        result = self.node.run(self.target, command, stdin, timeout, on_output)
        self.node.execs.append(Exec(self.node.name, command, Span(start, time.time()), result.status))
        return result

    def alive(self) -> bool:
        return self.node.network == "up"

    def close(self) -> None:
        pass


@dataclass
class FakeOpening:
    fake: FakeSSH
    node: FakeNode
    target: ssh.Target
    params: Connect

    def login(self) -> FakeSession:
        try:
            return self._login()
        except ssh.SSHError as exc:  # (the jump host, if any, was passed at the handshake)
            raise jumps.node_hop(self.target, exc) from None

    def _login(self) -> FakeSession:
        node, target = self.node, self.target
        node.connects.append(Connect(time.time(), self.params.timeout, self.params.retries, self.params.backoff))
        if target.username != node.username or (target.private_key or target.password) != node.credential:
            raise ssh.credentials_refused(target.username, target.address)
        return FakeSession(node, target)

    def alive(self) -> bool:
        return self.node.network == "up"

    def close(self) -> None:
        pass


class FakeSSH:
    """The fake transport: `node(...)` adds a node; regui.remote.transport.replaced(fake) puts it in use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.nodes: dict[tuple[str, int], FakeNode] = {}
        self.jump_hosts: dict[tuple[str, int], jumps.FakeJumpHost] = {}
        self._lock = threading.Lock()

    def node(self, name: str, **kwargs: Any) -> FakeNode:
        address = f"192.0.2.{len(self.nodes) + 1}"  # TEST-NET-1: nothing real is ever there
        node = FakeNode(name, address, 22, self.root / name, **kwargs)
        self.nodes[(node.address, node.port)] = node
        return node

    def jump_host(self, name: str, **kwargs: Any) -> jumps.FakeJumpHost:
        """A jump host; nodes made with only_via=its name are reached only through it."""
        address = f"198.51.100.{len(self.jump_hosts) + 1}"  # TEST-NET-2: nothing real is ever there
        host = jumps.FakeJumpHost(name, address, 22, _new_host_key(), **kwargs)
        self.jump_hosts[(address, 22)] = host
        return host

    def execs(self) -> list[Exec]:
        return sorted((e for n in self.nodes.values() for e in n.execs), key=lambda e: e.span.start)

    def restarts(self) -> list[Restart]:
        return sorted((r for n in self.nodes.values() for r in n.restarts()), key=lambda r: r.span.start)

    def _reach(self, address: str, port: int, timeout: float) -> FakeNode:
        node = self.nodes.get((address, port))
        if node is not None and not jumps.reachable(node.only_via):
            raise ssh.cannot_connect(address, port, "No route to host")
        if node is None or node.network == "refused":
            raise ssh.cannot_connect(address, port, "Connection refused")
        if node.network == "timeout":
            raise ssh.timed_out(address, port, timeout)
        if node.network == "hung":
            raise ssh.no_handshake(address, port, timeout, "Error reading SSH protocol banner")
        return node

    def connect(self, target: ssh.Target, *, timeout: float, retries: int, backoff: float) -> FakeSession:
        if target.host_key is None:
            raise ssh.no_approved_key()
        if target.jump is not None and not jumps.passing():
            return jumps.through(self, target, timeout,
                                 lambda: self.connect(target, timeout=timeout, retries=retries, backoff=backoff))
        with self._lock:
            node = self.nodes.get((target.address, target.port))
            if node:
                node.connects.append(Connect(time.time(), timeout, retries, backoff))
        node = self._reach(target.address, target.port, timeout)
        if node.host_key.type != target.host_key.type:
            raise ssh.key_type_refused(target.address, target.port)
        if node.host_key.key != target.host_key.key:
            raise ssh.key_changed(target.address, target.port, target.host_key, node.host_key)
        if target.username != node.username or (target.private_key or target.password) != node.credential:
            raise ssh.credentials_refused(target.username, target.address)
        return FakeSession(node, target)

    def handshake(self, target: ssh.Target, *, timeout: float, retries: int, backoff: float) -> FakeOpening:
        """Host key checked, not logged in: recorded in `handshakes`; `login()` counts as a connect."""
        if target.host_key is None:
            raise ssh.no_approved_key()
        if target.jump is not None and not jumps.passing():
            return jumps.through(self, target, timeout,
                                 lambda: self.handshake(target, timeout=timeout, retries=retries, backoff=backoff))
        node = self._reach(target.address, target.port, timeout)
        node.handshakes.append(time.time())
        if node.host_key.type != target.host_key.type:
            raise ssh.key_type_refused(target.address, target.port)
        if node.host_key.key != target.host_key.key:
            raise ssh.key_changed(target.address, target.port, target.host_key, node.host_key)
        return FakeOpening(self, node, target, Connect(0, timeout, retries, backoff))

    def scan_host_key(self, address: str, port: int, timeout: float, jump: ssh.Jump | None = None) -> ssh.HostKey:
        if jump is not None:
            target = ssh.Target(address, port, "", None, jump=jump)
            return jumps.through(self, target, timeout, lambda: self._reach(address, port, timeout).host_key)
        if (host := self.jump_hosts.get((address, port))) is not None:  # a jump host's own scan
            return jumps.scan(host, timeout)
        return self._reach(address, port, timeout).host_key
