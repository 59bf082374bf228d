"""Constants, errors and process helpers of the node harness (see nodes.py)."""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import time
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
# --stock-sshd / Harness.create(stock_sshd=True): sessions opened the way a stock Debian sshd opens them
# (UsePAM yes with Debian's /etc/pam.d/sshd: pam_unix account and session, pam_loginuid, pam_keyinit,
# pam_limits, pam_env, and pam_motd running /etc/update-motd.d on every session), written into the
# node's /etc overlay so the cost does not depend on the host's files. The PAM modules are the host's.
STOCK_SSHD_CONFIG = SSHD_CONFIG.replace("UsePAM no", "UsePAM yes").replace(
    "PrintMotd no", "PrintMotd no\nX11Forwarding yes\nAcceptEnv LANG LC_* COLORTERM NO_COLOR")
STOCK_PAM_SSHD = """@include common-auth
account    required     pam_nologin.so
@include common-account
session [success=ok ignore=ignore module_unknown=ignore default=bad]        pam_selinux.so close
session    required     pam_loginuid.so
session    optional     pam_keyinit.so force revoke
@include common-session
session    optional     pam_motd.so  motd=/run/motd.dynamic
session    optional     pam_motd.so noupdate
session    optional     pam_mail.so standard noenv
session    required     pam_limits.so
session    required     pam_env.so
session    required     pam_env.so user_readenv=1 envfile=/etc/default/locale
session [success=ok ignore=ignore module_unknown=ignore default=bad]        pam_selinux.so open
@include common-password
"""
STOCK_MOTD_UNAME = "#!/bin/sh\nuname -snrvm\n"  # Debian's /etc/update-motd.d/10-uname
SYSTEMCTL = r"""#!/bin/bash
# regui harness fake systemctl: appends "<start> <end> <uid> <rc> <args...>" to $HD/systemctl.log
# bash for $EPOCHREALTIME and $EUID: no `date` or `id` process per call. Forking those cost ~12 ms a
# call, and a rolling step of 10 nodes on 2 cores makes 20 calls in its critical path (bench/rolling.py).
trap '' HUP PIPE
LC_ALL=C
start=$EPOCHREALTIME rc=0 verb= unit= quiet= RESTART_SECONDS=0 RESTART_FAILS=0 IS_ACTIVE=active
[ -r $HD/systemctl.env ] && . $HD/systemctl.env
for a; do case $a in -q|--quiet) quiet=1;; -*) ;; *) [ -z "$verb" ] && verb=$a || unit=${unit:-$a};; esac; done
case $verb in
  restart|start|stop|reload|try-restart|reload-or-restart|daemon-reload|enable|disable)
    if [ "$EUID" != 0 ]; then rc=1; echo "Failed to $verb ${unit:-daemon}: Interactive authentication required." >&2
    elif [ "$verb" = restart ]; then sleep "$RESTART_SECONDS"; [ "$RESTART_FAILS" = 1 ] && rc=1 && echo \
      "Job for ${unit%.service}.service failed because the control process exited with error code." >&2
      # What the service does when it starts, if a test says (tests/harness/k3s.py: K3s writes certs.d).
      if [ $rc = 0 ] && [ -x $HD/on-restart ]; then
        $HD/on-restart "${unit%.service}" >> $HD/on-restart.log 2>&1 || { rc=1; echo "${unit%.service} failed to start" >&2; }
      fi
    fi;;
  is-active) [ -n "$quiet" ] || echo "$IS_ACTIVE"; [ "$IS_ACTIVE" = active ] || rc=3;;
esac
printf '%s %s %s %s %s\n' "$start" "$EPOCHREALTIME" "$EUID" "$rc" "$*" >> $HD/systemctl.log
exit $rc
""".replace("$HD", HD)
ANCHOR = """set -e
ip addr add {address}/24 dev eth0; ip link set lo up; ip link set eth0 up
mount -t overlay overlay -o lowerdir=/etc,upperdir={upper},workdir={work} /etc
mount -t overlay rglib -o lowerdir=/var/lib,upperdir={lib_upper},workdir={lib_work} /var/lib
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
