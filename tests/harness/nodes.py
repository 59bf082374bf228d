"""Fake K3s/RKE2 nodes for push tests: per node a network namespace with its own sshd, host key and /etc.

A bridge ``rgbr<id>`` has ``.1`` of a free /24 in 10.250-10.254; node i is ``.(10+i)`` in namespace
``rg<id>-n<i>``. Per node an *anchor* process (``sleep infinity``) owns a private mount + UTS namespace:
an overlay over /etc (upper dir ``node.upper`` on the host), tmpfs on /tmp /var/tmp /home /root /run
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
import itertools
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(os.environ.get("REGUI_HARNESS_DIR", "/tmp/regui-harness"))
SSHD, HD = "/usr/sbin/sshd", "/etc/regui-harness"  # HD: the harness's files inside each node
USER, SUDO_USER = "root", "deploy"
SUDO_MODES = ("nopasswd", "password", "none")
TOOLS = ("ip", "nsenter", "unshare", "mount", "findmnt", "ssh-keygen", "useradd", "chpasswd", "sudo", "nft", "tc", SSHD)
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C"}
SSHD_CONFIG = "\n".join([
    "Port 22", "AddressFamily inet", "ListenAddress 0.0.0.0", f"HostKey {HD}/ssh_host_ed25519_key", "PidFile none",
    f"AuthorizedKeysFile {HD}/authorized_keys", "PubkeyAuthentication yes", "PasswordAuthentication no",
    "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "UsePAM no", "StrictModes no",
    "PrintMotd no", "Subsystem sftp internal-sftp", "MaxStartups 100:30:200", "MaxSessions 50",
    f"Match User {SUDO_USER}", "    PasswordAuthentication yes", ""])
SYSTEMCTL = r"""#!/bin/sh
# regui harness fake systemctl: appends "<start> <end> <uid> <rc> <args...>" to $HD/systemctl.log
trap '' HUP PIPE
start=$(date +%s.%N) rc=0 verb= unit= quiet= RESTART_SECONDS=0 RESTART_FAILS=0 IS_ACTIVE=active
[ -r $HD/systemctl.env ] && . $HD/systemctl.env
for a; do case $a in -q|--quiet) quiet=1;; -*) ;; *) [ -z "$verb" ] && verb=$a || unit=${unit:-$a};; esac; done
case $verb in
  restart|start|stop|reload|try-restart|reload-or-restart|daemon-reload|enable|disable)
    if [ "$(id -u)" != 0 ]; then rc=1; echo "Failed to $verb ${unit:-daemon}: Interactive authentication required." >&2
    elif [ "$verb" = restart ]; then sleep "$RESTART_SECONDS"; [ "$RESTART_FAILS" = 1 ] && rc=1 && echo \
      "Job for ${unit%.service}.service failed because the control process exited with error code." >&2
    fi;;
  is-active) [ -n "$quiet" ] || echo "$IS_ACTIVE"; [ "$IS_ACTIVE" = active ] || rc=3;;
esac
printf '%s %s %s %s %s\n' "$start" "$(date +%s.%N)" "$(id -u)" "$rc" "$*" >> $HD/systemctl.log
exit $rc
""".replace("$HD", HD)
ANCHOR = """set -e
ip addr add {address}/24 dev eth0; ip link set lo up; ip link set eth0 up
mount -t overlay overlay -o lowerdir=/etc,upperdir={upper},workdir={work} /etc
mount -t overlay rgbin -o lowerdir={bin}:/usr/bin /usr/bin
for d in /tmp /var/tmp /home /root /run /var/log; do mount -t tmpfs -o mode=0755 tmpfs $d; done
chmod 1777 /tmp /var/tmp; chmod 0700 /root; mkdir -p /run/sshd /home/{user}; hostname {name}
id {user} >/dev/null 2>&1 || useradd -M -U -s /bin/bash -d /home/{user} {user}
echo "{user}:$RG_PASSWORD" | chpasswd; chown {user}:{user} /home/{user}
ssh-keygen -q -t ed25519 -N '' -C {name} -f {hd}/ssh_host_ed25519_key
touch {hd}/ready; exec sleep infinity
"""


class HarnessUnavailable(RuntimeError):
    """This machine cannot run the nodes (not root, no `ip netns`, a tool missing, no free subnet)."""


class HarnessError(RuntimeError):
    """Setting up or driving a node failed; the message carries the command's output or the node's log."""


class Restart(NamedTuple):
    start: float  # time.time() when `systemctl restart` began / ended
    end: float
    unit: str


class Call(NamedTuple):
    start: float
    end: float
    uid: int
    rc: int
    args: tuple[str, ...]


class FileStat(NamedTuple):
    mode: int  # permission bits only, e.g. 0o600
    uid: int
    gid: int


def _run(*cmd: str, input: str | None = None, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, env=ENV, cwd="/")
    if check and r.returncode:
        raise HarnessError(f"{shlex.join(cmd)} -> {r.returncode}: {r.stderr.strip()}")
    return r


def _write(path: Path, data: str | bytes, mode: int = 0o644, uid: int = 0, gid: int = 0) -> None:
    """Atomic write (temp file + rename); also through /proc/<pid>/root into a node."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.rg{secrets.token_hex(3)}")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.chown(tmp, uid, gid)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _stat(path: str | Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _banner(address: str, port: int = 22, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout) as s:
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def start_time(pid: int) -> str | None:
    """Start time of *pid* (ticks since boot), to tell a live creator from a reused PID."""
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    return None


def _pick_subnet() -> ipaddress.IPv4Network:
    """First 10.{250..254}.x.0/24 without a local address or gateway in it and no route as specific as /24."""
    used: set[ipaddress.IPv4Network] = set()
    for tok in (_run("ip", "-o", "-4", "addr").stdout + _run("ip", "-4", "route", "show", "table", "all").stdout).split():
        with contextlib.suppress(ValueError):
            i = ipaddress.IPv4Interface(tok)
            used |= {ipaddress.IPv4Network(i.ip), *([i.network] if i.network.prefixlen >= 24 else [])}
    for third, second in itertools.product(range(256), range(250, 255)):
        if not any((cand := ipaddress.IPv4Network(f"10.{second}.{third}.0/24")).overlaps(u) for u in used):
            return cand
    raise HarnessUnavailable("no free /24 in 10.250.0.0-10.254.255.0")


def teardown(state: dict[str, Any]) -> None:
    """SIGKILL every process in the instance's namespaces; delete veths, bridge, namespaces and its dir."""
    netns, deadline = state.get("netns", []), time.monotonic() + 10
    ids = {(st.st_dev, st.st_ino) for n in netns if (st := _stat(f"/run/netns/{n}"))}
    while ids and time.monotonic() < deadline and (pids := [
            int(p) for p in os.listdir("/proc") if p.isdigit() and (st := _stat(f"/proc/{p}/ns/net"))
            and (st.st_dev, st.st_ino) in ids]):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)
    batch = [f"link del {x}" for x in [state.get("bridge"), *state.get("veths", [])] if x]
    _run("ip", "-force", "-batch", "-", input="\n".join(batch + [f"netns del {n}" for n in netns]) + "\n", check=False)
    if state.get("dir"):
        shutil.rmtree(state["dir"], ignore_errors=True)


def _sudo_mode(mode: bool | str) -> str:
    m = ("nopasswd" if mode else "none") if isinstance(mode, bool) else mode
    if m not in SUDO_MODES:
        raise ValueError(f"sudo mode {mode!r}: use True/False or one of {SUDO_MODES}")
    return m


def check_available() -> None:
    """Raise HarnessUnavailable with the reason when this machine cannot run the nodes."""
    if os.geteuid() != 0:
        raise HarnessUnavailable("needs root (network namespaces, mounts)")
    if missing := [t for t in TOOLS if not shutil.which(t, path=ENV["PATH"])]:
        raise HarnessUnavailable(f"missing tools: {' '.join(missing)} (Debian packages: iproute2 nftables "
                                 "openssh-server openssh-client util-linux mount passwd sudo)")
    if "overlay" not in Path("/proc/filesystems").read_text():
        raise HarnessUnavailable("overlayfs is not available")
    ROOT.mkdir(parents=True, exist_ok=True)
    if _run("findmnt", "-n", "-o", "FSTYPE", "-T", str(ROOT), check=False).stdout.strip() == "overlay":
        raise HarnessUnavailable(f"{ROOT} is on overlayfs, which cannot hold the nodes' overlay upper dirs: "
                                 "set REGUI_HARNESS_DIR to a dir on another filesystem (tmpfs, ext4, a volume)")


class Node:
    """One fake node. Paths passed to its methods are paths inside the node."""

    def __init__(self, harness: Harness, index: int, sudo: str) -> None:
        self.harness, self.index, self.sudo, self.port = harness, index, sudo, 22
        self.name, self.netns, self.veth = f"node{index}", f"rg{harness.id}-n{index}", f"rg{harness.id}v{index}"
        self.address = str(harness.subnet.network_address + 10 + index)
        self.dir = harness.dir / self.name
        self.upper, self.work = self.dir / "upper", self.dir / "work"  # the overlay over the node's /etc
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

    @classmethod
    def create(cls, n: int = 3, *, sudo: bool | str | Sequence[bool | str] = True,
               etc_dirs: Sequence[str] = ("rancher/k3s",), detached: bool = False, timeout: float = 30) -> Harness:
        """Start *n* nodes; return when every sshd answers. *sudo*: one mode for all nodes or one per node;
        *etc_dirs*: dirs made under each node's /etc; *detached*: no atexit teardown (`up` by hand)."""
        check_available()
        modes = [_sudo_mode(m) for m in ([sudo] * n if isinstance(sudo, bool | str) else sudo)]
        if len(modes) != n:
            raise ValueError("give one sudo mode per node")
        h = cls(detached)
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
                       "upper": str(n.upper)}
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
            n.work.mkdir(parents=True)
            for rel, text in (("regui-harness/sshd_config", SSHD_CONFIG), ("regui-harness/authorized_keys", client_pub),
                              ("regui-harness/systemctl.log", ""), ("hostname", f"{n.name}\n"),
                              ("hosts", f"{hosts.rstrip()}\n127.0.1.1\t{n.name}\n")):
                _write(n.upper / rel, text, 0o666 if rel.endswith(".log") else 0o644)
            for d in etc_dirs:
                (n.upper / d).mkdir(parents=True, exist_ok=True)
            script = ANCHOR.format(address=n.address, upper=n.upper, work=n.work, bin=self.dir / "bin",
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
