"""Fake K3s/RKE2 nodes for push tests: per node a network namespace with its own sshd, host key, /etc, /var/lib.

A bridge ``rgbr<id>`` has ``.1`` of a free /24 in 10.250-10.254; node i is ``.(10+i)`` in namespace
``rg<id>-n<i>``. Per node an *anchor* process (``sleep infinity``) owns a private mount + UTS namespace:
an overlay over /etc (upper dir ``node.upper`` on the host) and one over /var/lib (``node.lib_upper``:
TLS files pushed to a node land there, not in the host's /var/lib), tmpfs on /tmp /var/tmp /home /root /run
/var/log, an overlay over /usr/bin with the fake ``systemctl`` on top, hostname ``node<i>``, and the user
``deploy`` (only in that /etc). sshd is nsenter'ed into it, so it can be frozen, stopped or restarted with
a new host key while the node keeps its files. ``Node.read`` & co. use ``/proc/<anchor>/root``: the node's
own view. ``make_readonly`` is a read-only bind mount in the node (root gets EROFS; ``chattr +i`` does
not work on overlayfs). Each instance keeps ``<ROOT>/<id>/state.json`` for ``python -m tests.harness
down``; teardown SIGKILLs every process in the instance's namespaces, then deletes them.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shlex
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._base import (  # noqa: F401  (re-exported: tests and __main__ import them from here)
    ANCHOR,
    ENV,
    HD,
    ROOT,
    SSHD,
    SSHD_CONFIG,
    STOCK_MOTD_UNAME,
    STOCK_PAM_SSHD,
    STOCK_SSHD_CONFIG,
    SUDO_MODES,
    SUDO_USER,
    SYSTEMCTL,
    TOOLS,
    USER,
    Call,
    FileStat,
    HarnessError,
    HarnessUnavailable,
    Restart,
    _banner,
    _pick_subnet,
    _run,
    _stat,
    _sudo_mode,
    _write,
    check_available,
    start_time,
    teardown,
)


class Node:
    """One fake node. Paths passed to its methods are paths inside the node."""

    def __init__(self, harness: Harness, index: int, sudo: str) -> None:
        self.harness, self.index, self.sudo, self.port = harness, index, sudo, 22
        self.name, self.netns, self.veth = f"node{index}", f"rg{harness.id}-n{index}", f"rg{harness.id}v{index}"
        self.address = str(harness.subnet.network_address + 10 + index)
        self.dir = harness.dir / self.name
        self.upper, self.work = self.dir / "upper", self.dir / "work"  # the overlay over the node's /etc
        self.lib_upper, self.lib_work = self.dir / "lib-upper", self.dir / "lib-work"  # ... over its /var/lib
        self.host_key_type, self.host_key_public = "ssh-ed25519", ""  # public: base64 blob as in known_hosts
        self.anchor: subprocess.Popen[bytes]  # `sleep infinity` holding the node's mount + UTS namespaces
        self.sshd: subprocess.Popen[bytes]  # the listening sshd
        self._systemctl = {"RESTART_SECONDS": "0", "RESTART_FAILS": "0", "IS_ACTIVE": "active"}

    def __repr__(self) -> str:
        return f"<Node {self.name} {self.address} {self.netns}>"

    @property
    def host_key_fingerprint(self) -> str:
        digest = hashlib.sha256(base64.b64decode(self.host_key_public)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    def path(self, p: str) -> Path:
        """Host path of the node's *p* as the node sees it (its own mounts), via /proc/<anchor>/root."""
        return Path(f"/proc/{self.anchor.pid}/root") / p.lstrip("/")

    def read(self, p: str) -> bytes | None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            return self.path(p).read_bytes()
        return None

    def write(self, p: str, data: str | bytes, mode: int = 0o644, uid: int = 0, gid: int = 0) -> None:
        _write(self.path(p), data, mode, uid, gid)

    def stat(self, p: str) -> FileStat | None:
        st = _stat(self.path(p))
        return FileStat(st.st_mode & 0o7777, st.st_uid, st.st_gid) if st else None

    def listdir(self, p: str) -> list[str]:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            return sorted(os.listdir(self.path(p)))
        return []

    def exec_as_root(self, cmd: str, timeout: float = 30) -> tuple[int, str]:
        """`sh -c cmd` as root in the node's mount, UTS and network namespaces -> (rc, stdout + stderr)."""
        r = _run("nsenter", "-t", str(self.anchor.pid), "-m", "-u", "-n", "--", "sh", "-c", cmd,
                 check=False, timeout=timeout)
        return r.returncode, r.stdout + r.stderr

    def _must(self, cmd: str) -> None:
        if (r := self.exec_as_root(cmd))[0]:
            raise HarnessError(f"{self.name}: {cmd} -> {r}")

    def _net(self, *cmd: str, input: str | None = None, check: bool = True) -> None:
        _run("nsenter", f"--net=/run/netns/{self.netns}", *cmd, input=input, check=check)

    def calls(self) -> list[Call]:
        """Every finished call of the fake systemctl on this node (by any user, with any result)."""
        lines = (self.read(f"{HD}/systemctl.log") or b"").decode().splitlines()
        return [Call(float(s), float(e), int(u), int(rc), tuple(a)) for s, e, u, rc, *a in map(str.split, lines)]

    def restarts(self, include_failed: bool = False) -> list[Restart]:
        """`systemctl restart <unit>` calls by root, in order; failed ones only with include_failed."""
        words = [(c, [a for a in c.args if not a.startswith("-")]) for c in self.calls()]
        return [Restart(c.start, c.end, " ".join(w[1:])) for c, w in words
                if w[:1] == ["restart"] and c.uid == 0 and (include_failed or c.rc == 0)]

    def set_systemctl(self, restart_seconds: float | None = None, restart_fails: bool | None = None,
                      is_active: str | None = None) -> None:
        """Behaviour of the fake systemctl from now on; arguments left out keep their value."""
        if is_active is not None and not re.fullmatch(r"[a-z-]+", is_active):
            raise ValueError(is_active)
        for key, value in (("RESTART_SECONDS", None if restart_seconds is None else f"{restart_seconds:.3f}"),
                           ("RESTART_FAILS", None if restart_fails is None else str(int(restart_fails))),
                           ("IS_ACTIVE", is_active)):
            self._systemctl[key] = self._systemctl[key] if value is None else value
        self.write(f"{HD}/systemctl.env", "".join(f"{k}={v}\n" for k, v in self._systemctl.items()))

    def set_sudo(self, mode: bool | str) -> None:
        """sudo for deploy: True/"nopasswd", "password" (sudo -S with the harness's sudo_password), False/"none"."""
        self.sudo, p = _sudo_mode(mode), f"/etc/sudoers.d/{SUDO_USER}"
        if self.sudo == "none":
            self.path(p).unlink(missing_ok=True)
        else:
            self.write(p, f"{SUDO_USER} ALL=(ALL:ALL) {'NOPASSWD: ' * (self.sudo == 'nopasswd')}ALL\n", 0o440)

    def link_down(self) -> None:
        """The node's eth0 goes down: connects time out."""
        self._net("ip", "link", "set", "eth0", "down")

    def link_up(self) -> None:
        self._net("ip", "link", "set", "eth0", "up")

    def _nft(self, rule: str = "") -> None:
        t = "table inet regui_harness"
        body = f"{t} {{\n chain input {{\n type filter hook input priority 0;\n {rule}\n }}\n}}\n" if rule else ""
        self._net("nft", "-f", "-", input=f"add {t}\ndelete {t}\n{body}")

    def drop_ssh(self) -> None:
        """nft in the node drops packets to port 22: connects time out."""
        self._nft("tcp dport 22 drop")

    def reject_ssh(self) -> None:
        """nft in the node answers port 22 with a TCP reset: connects fail at once."""
        self._nft("tcp dport 22 reject with tcp reset")

    def allow_ssh(self) -> None:
        self._nft()

    def ssh_only_from(self, address: str) -> None:
        """nft in the node resets SSH connections from anywhere but `address`: a node behind a bastion,
        which the host reaches only through that node."""
        self._nft(f"ip saddr != {address} tcp dport 22 reject with tcp reset")

    def sshd_option(self, option: str) -> None:
        """Set `option` (e.g. "AllowTcpForwarding no") in the node's sshd_config, for every user, and
        restart sshd. It replaces the harness's own line for that keyword (sshd takes the first one)."""
        head, match, tail = (self.read(f"{HD}/sshd_config") or b"").decode().partition("Match ")
        keyword = option.split()[0].lower()
        kept = [line for line in head.splitlines() if line.lower().split()[:1] != [keyword]]
        self.write(f"{HD}/sshd_config", "".join(f"{line}\n" for line in kept) + f"{option}\n{match}{tail}")
        self.stop_sshd()
        self.start_sshd()

    def throttle(self, rate: str = "1mbit") -> None:
        """tbf on the node's eth0 and on the host's veth, i.e. both directions (netem is not available)."""
        tbf = ("root", "tbf", "rate", rate, "burst", "32kbit", "latency", "400ms")
        self._net("tc", "qdisc", "replace", "dev", "eth0", *tbf)
        _run("tc", "qdisc", "replace", "dev", self.veth, *tbf)

    def unthrottle(self) -> None:
        self._net("tc", "qdisc", "del", "dev", "eth0", "root", check=False)
        _run("tc", "qdisc", "del", "dev", self.veth, "root", check=False)

    def freeze_sshd(self) -> None:
        """SIGSTOP the listening sshd: TCP still connects, the SSH banner never comes."""
        os.kill(self.sshd.pid, signal.SIGSTOP)

    def thaw_sshd(self) -> None:
        os.kill(self.sshd.pid, signal.SIGCONT)

    def make_readonly(self, p: str) -> None:
        """Read-only bind mount of *p* (made if missing) onto itself in the node: writes, even root's, get EROFS."""
        q = shlex.quote(p)
        self._must(f"mkdir -p {q} && mount --bind {q} {q} && mount -o remount,bind,ro {q}")

    def make_writable(self, p: str) -> None:
        self._must(f"umount {shlex.quote(p)}")

    def stop_sshd(self) -> None:
        """SIGKILL the listening sshd (open sessions go on); port 22 then refuses connections."""
        if self.sshd.poll() is None:
            os.kill(self.sshd.pid, signal.SIGKILL)
            self.sshd.wait(10)

    def start_sshd(self, timeout: float = 10) -> None:
        with open(self.dir / "sshd.log", "ab") as log:
            self.sshd = subprocess.Popen(
                ["nsenter", "-t", str(self.anchor.pid), "-m", "-u", "-n", "--", SSHD, "-D", "-e", "-f",
                 f"{HD}/sshd_config"], stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                cwd="/", env=ENV)
        if timeout:
            self.harness._wait([self], "sshd", timeout)

    def regenerate_host_key(self) -> None:
        """A new ed25519 host key and a restarted sshd (for changed-host-key tests)."""
        key = f"{HD}/ssh_host_ed25519_key"
        self._must(f"rm -f {key} {key}.pub && ssh-keygen -q -t ed25519 -N '' -C {self.name} -f {key}")
        self.host_key_public = (self.read(f"{key}.pub") or b"").decode().split()[1]
        self.stop_sshd()
        self.start_sshd()
        self.harness._save()


class Harness:
    """N fake nodes: ``with Harness.up(3, sudo=True) as h: ...``, or ``Harness.create(...)`` + ``destroy()``."""

    user, sudo_user = USER, SUDO_USER

    def __init__(self, detached: bool = False) -> None:
        self._new_id()
        self.subnet, self.nodes = ipaddress.IPv4Network("10.250.0.0/24"), list[Node]()
        self.detached, self.destroyed, self._owns_dir = detached, False, False
        self.sudo_password = f"Pw-{secrets.token_urlsafe(12)}"  # deploy's password (ssh and sudo)
        self.stock_sshd = False

    @classmethod
    def create(cls, n: int = 3, *, sudo: bool | str | Sequence[bool | str] = True,
               etc_dirs: Sequence[str] = ("rancher/k3s",), detached: bool = False, timeout: float = 30,
               stock_sshd: bool = False) -> Harness:
        """Start *n* nodes; return when every sshd answers. *sudo*: one mode for all nodes or one per node;
        *etc_dirs*: dirs made under each node's /etc; *detached*: no atexit teardown (`up` by hand);
        *stock_sshd*: sshd opens sessions as a stock Debian sshd does (UsePAM yes, Debian's pam.d/sshd)."""
        check_available()
        modes = [_sudo_mode(m) for m in ([sudo] * n if isinstance(sudo, bool | str) else sudo)]
        if len(modes) != n:
            raise ValueError("give one sudo mode per node")
        h = cls(detached)
        h.stock_sshd = stock_sshd
        if not detached:
            atexit.register(h.destroy)
        try:
            h._setup(modes, etc_dirs, timeout)
        except BaseException:
            h.destroy()
            raise
        return h

    up = create

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    def _new_id(self) -> None:
        self.id = secrets.token_hex(3)
        self.dir, self.bridge = ROOT / self.id, f"rgbr{self.id}"

    @property
    def host_address(self) -> str:
        return str(self.subnet.network_address + 1)

    @property
    def client_key_path(self) -> Path:
        return self.dir / "client_ed25519"

    @property
    def client_private_key_pem(self) -> str:
        return self.client_key_path.read_text()

    def known_hosts(self) -> str:
        return "".join(f"{n.address} {n.host_key_type} {n.host_key_public}\n" for n in self.nodes)

    def state(self) -> dict[str, Any]:
        return {
            "id": self.id, "dir": str(self.dir), "bridge": self.bridge, "subnet": str(self.subnet),
            "netns": [n.netns for n in self.nodes], "veths": [n.veth for n in self.nodes],
            "owner_pid": os.getpid(), "owner_start": start_time(os.getpid()), "detached": self.detached,
            "user": self.user, "sudo_user": self.sudo_user, "sudo_password": self.sudo_password,
            "client_key": str(self.client_key_path), "known_hosts": str(self.dir / "known_hosts"),
            "nodes": [{"name": n.name, "address": n.address, "port": n.port, "netns": n.netns, "sudo": n.sudo,
                       "host_key_fingerprint": n.host_key_fingerprint if n.host_key_public else None,
                       "upper": str(n.upper), "lib_upper": str(n.lib_upper)}
                      for n in self.nodes]}

    def _save(self) -> None:
        _write(self.dir / "state.json", json.dumps(self.state(), indent=1), 0o600)
        _write(self.dir / "known_hosts", self.known_hosts())

    def _setup(self, modes: list[str], etc_dirs: Sequence[str], timeout: float) -> None:
        ROOT.mkdir(parents=True, exist_ok=True)
        with open(ROOT / ".lock", "a") as lock:  # one instance at a time picks a subnet and adds its bridge
            fcntl.flock(lock, fcntl.LOCK_EX)
            while self.dir.exists() or Path(f"/sys/class/net/{self.bridge}").exists():
                self._new_id()
            self.dir.mkdir(mode=0o700)
            self._owns_dir, self.subnet = True, _pick_subnet()
            self.nodes = [Node(self, i + 1, m) for i, m in enumerate(modes)]
            self._save()  # from here on `down` finds everything
            batch = [f"link add {self.bridge} type bridge", f"addr add {self.host_address}/24 dev {self.bridge}",
                     f"link set {self.bridge} up"] + [line for n in self.nodes for line in (
                         f"netns add {n.netns}", f"link add {n.veth} type veth peer name eth0 netns {n.netns}",
                         f"link set {n.veth} master {self.bridge} up")]
            if (r := _run("ip", "-batch", "-", input="\n".join(batch) + "\n", check=False)).returncode:
                raise HarnessUnavailable(f"ip netns/bridge setup failed: {r.stderr.strip()}")
        _write(self.dir / "bin/systemctl", SYSTEMCTL, 0o755)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "regui-harness-client", "-f", str(self.client_key_path))
        client_pub, hosts = self.client_key_path.with_suffix(".pub").read_text(), Path("/etc/hosts").read_text()
        for n in self.nodes:
            for d in (n.work, n.lib_upper, n.lib_work):
                d.mkdir(parents=True)
            stock = (("pam.d/sshd", STOCK_PAM_SSHD), ("update-motd.d/10-uname", STOCK_MOTD_UNAME)) \
                if self.stock_sshd else ()
            for rel, text in (("regui-harness/sshd_config", STOCK_SSHD_CONFIG if self.stock_sshd else SSHD_CONFIG),
                              ("regui-harness/authorized_keys", client_pub),
                              ("regui-harness/systemctl.log", ""), ("hostname", f"{n.name}\n"),
                              ("hosts", f"{hosts.rstrip()}\n127.0.1.1\t{n.name}\n"), *stock):
                _write(n.upper / rel, text, 0o755 if "motd" in rel else 0o666 if rel.endswith(".log") else 0o644)
            for d in etc_dirs:
                (n.upper / d).mkdir(parents=True, exist_ok=True)
            script = ANCHOR.format(address=n.address, upper=n.upper, work=n.work, lib_upper=n.lib_upper,
                                   lib_work=n.lib_work, bin=self.dir / "bin",
                                   user=SUDO_USER, name=n.name, hd=HD)
            with open(n.dir / "anchor.log", "wb") as log:
                n.anchor = subprocess.Popen(
                    ["ip", "netns", "exec", n.netns, "unshare", "--mount", "--uts", "--propagation", "private",
                     "sh", "-c", script], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    start_new_session=True, cwd="/", env={**ENV, "RG_PASSWORD": self.sudo_password})
        self._wait(self.nodes, "anchor", timeout)
        for n in self.nodes:
            n.host_key_public = (n.upper / "regui-harness/ssh_host_ed25519_key.pub").read_text().split()[1]
            n.set_sudo(n.sudo)
            n.set_systemctl()
            n.start_sshd(timeout=0)
        self._wait(self.nodes, "sshd", timeout)
        self._save()

    def _wait(self, nodes: Sequence[Node], what: str, timeout: float) -> None:
        """Until each node's anchor has set up its namespaces / each sshd sends its banner."""
        pending, deadline = list(nodes), time.monotonic() + timeout
        while pending := [n for n in pending if not (
                (n.upper / "regui-harness/ready").exists() if what == "anchor" else _banner(n.address))]:
            for n in pending:
                if (p := getattr(n, what, None)) and p.poll() is not None:
                    raise HarnessError(f"{n.name}: {what} exited:\n{(n.dir / f'{what}.log').read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise HarnessError(f"{what} not ready after {timeout} s: {[n.name for n in pending]}")
            time.sleep(0.005)

    def destroy(self) -> None:
        """Kill all node processes; remove namespaces, veths, bridge and the instance dir. Idempotent."""
        if self.destroyed:
            return
        self.destroyed = True
        atexit.unregister(self.destroy)
        teardown({"netns": [n.netns for n in self.nodes], "veths": [n.veth for n in self.nodes],
                  "bridge": self.bridge, "dir": str(self.dir) if self._owns_dir else None})
        for p in [p for n in self.nodes for p in (getattr(n, "anchor", None), getattr(n, "sshd", None)) if p]:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(5)
