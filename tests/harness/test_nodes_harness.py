"""Self-test of the fake-node harness (tests/harness/nodes.py): real sshd in network namespaces."""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import paramiko
import pytest

from tests.conftest import require
from tests.harness.nodes import ROOT, Harness, HarnessUnavailable, Node, check_available

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def h():
    try:
        check_available()
    except HarnessUnavailable as exc:
        require(False, f"fake SSH nodes: {exc}")
    with Harness.up(2, sudo=[True, False]) as harness:
        yield harness


def connect(h: Harness, node: Node, user: str = "root", *, host_key: str | None = None, password: str | None = None,
            timeout: float = 10, banner_timeout: float = 10) -> paramiko.SSHClient:
    """paramiko with RejectPolicy and the node's host key pinned (or *host_key*, base64)."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    blob = base64.b64decode(host_key or node.host_key_public)
    client.get_host_keys().add(node.address, node.host_key_type, paramiko.Ed25519Key(data=blob))
    key = None if password else paramiko.Ed25519Key.from_private_key(io.StringIO(h.client_private_key_pem))
    client.connect(node.address, node.port, username=user, pkey=key, password=password, timeout=timeout,
                   banner_timeout=banner_timeout, auth_timeout=10, look_for_keys=False, allow_agent=False)
    return client


def run(client: paramiko.SSHClient, cmd: str) -> tuple[int, str, str]:
    _, out, err = client.exec_command(cmd, timeout=20)
    rc = out.channel.recv_exit_status()
    return rc, out.read().decode(), err.read().decode()


def test_pinned_host_keys_and_hostnames(h):
    assert [n.address for n in h.nodes] == [str(h.subnet.network_address + i) for i in (11, 12)]
    assert h.nodes[0].host_key_public != h.nodes[1].host_key_public
    for n in h.nodes:
        with connect(h, n) as c:
            assert c.get_transport().get_remote_server_key().fingerprint == n.host_key_fingerprint
            assert run(c, "hostname") == (0, f"{n.name}\n", "")
    with pytest.raises(paramiko.BadHostKeyException):
        connect(h, h.nodes[1], host_key=h.nodes[0].host_key_public)


def test_each_node_has_its_own_etc(h):
    n1, n2 = h.nodes
    target = f"/etc/rancher/k3s/harness-{secrets.token_hex(4)}.yaml"
    with connect(h, n1) as c, c.open_sftp() as sftp:
        with sftp.open(target + ".tmp", "w") as f:
            f.write("mirrors: {}\n")
        sftp.chmod(target + ".tmp", 0o600)
        sftp.posix_rename(target + ".tmp", target)
    assert n1.read(target) == b"mirrors: {}\n"
    assert n1.stat(target) == (0o600, 0, 0)
    assert (n1.upper / target.removeprefix("/etc/")).read_bytes() == b"mirrors: {}\n"
    assert target.rsplit("/", 1)[1] in n1.listdir("/etc/rancher/k3s")
    assert n2.read(target) is None and n2.stat(target) is None
    assert not Path(target).exists()
    assert n1.exec_as_root("hostname; id -u deploy")[1].splitlines()[0] == "node1"



@pytest.mark.slow
def test_a_file_written_in_var_lib_on_one_node_is_absent_on_the_other_and_on_the_host(h):
    n1, n2 = h.nodes
    d = f"/var/lib/rancher/k3s/etc/tls/registries/harness-{secrets.token_hex(4)}"
    with connect(h, n1) as c:  # as a push writes it: over SSH, by the node's own sshd
        assert run(c, f"mkdir -p {d} && printf one > {d}/tls.crt") == (0, "", "")
    assert n1.read(f"{d}/tls.crt") == b"one"
    assert (n1.lib_upper / d.removeprefix("/var/lib/") / "tls.crt").read_bytes() == b"one"
    assert n2.read(f"{d}/tls.crt") is None and n2.listdir(d) == []
    assert not Path(d).exists(), "the node wrote into the host's /var/lib"
    with connect(h, n2) as c:
        assert run(c, f"mkdir -p {d} && printf two > {d}/tls.crt")[0] == 0
    assert (n1.read(f"{d}/tls.crt"), n2.read(f"{d}/tls.crt")) == (b"one", b"two")
    # The overlay still shows the host's /var/lib below (dpkg, sudo and the like read it).
    assert set(os.listdir("/var/lib")) <= set(n1.listdir("/var/lib"))

def test_fake_systemctl_records_restarts(h):
    n = h.nodes[0]
    n.set_systemctl(restart_seconds=0.3)
    before = time.time()
    with connect(h, n) as c:
        assert run(c, "systemctl restart k3s")[0] == 0
        n.set_systemctl(restart_seconds=0, restart_fails=True, is_active="failed")
        rc, _, err = run(c, "systemctl restart k3s")
        assert rc == 1 and "k3s.service failed" in err
        assert run(c, "systemctl is-active k3s") == (3, "failed\n", "")
        n.set_systemctl(restart_fails=False, is_active="active")
        assert run(c, "systemctl is-active --quiet k3s")[:2] == (0, "")
    (r,) = n.restarts()
    assert r.unit == "k3s" and before <= r.start and r.end - r.start >= 0.3 and r.end <= time.time()
    assert len(n.restarts(include_failed=True)) == 2
    assert h.nodes[1].restarts() == []


def test_sudo_user_and_password_auth(h):
    ok, no = h.nodes
    with connect(h, ok, h.sudo_user) as c:
        assert run(c, "sudo -n true")[0] == 0
        assert run(c, "systemctl restart rke2-server")[0] == 1  # not root: refused, not a restart
        assert run(c, "sudo -n systemctl restart rke2-server")[0] == 0
    assert [r.unit for r in ok.restarts()][-1:] == ["rke2-server"]
    with connect(h, no, h.sudo_user) as c:
        rc, _, err = run(c, "sudo -n true")
        assert rc == 1 and "a password is required" in err
    with connect(h, no, h.sudo_user, password=h.sudo_password) as c:
        assert run(c, "id -un")[1] == "deploy\n"
    with pytest.raises(paramiko.AuthenticationException):
        connect(h, no, h.sudo_user, password="wrong")


def test_readonly_dir(h):
    n = h.nodes[0]
    n.make_readonly("/etc/rancher")
    try:
        with connect(h, n) as c:
            rc, _, err = run(c, "touch /etc/rancher/k3s/x")
            assert rc == 1 and "Read-only file system" in err
            with c.open_sftp() as sftp, pytest.raises(OSError):
                sftp.open("/etc/rancher/k3s/y", "w").close()
    finally:
        n.make_writable("/etc/rancher")
    assert n.exec_as_root("touch /etc/rancher/k3s/x")[0] == 0


def test_network_faults(h):
    n = h.nodes[1]
    n.link_down()
    try:
        start = time.monotonic()
        with pytest.raises((TimeoutError, socket.timeout)):
            connect(h, n, timeout=1.5)
        assert time.monotonic() - start >= 1.4
    finally:
        n.link_up()
    n.reject_ssh()
    try:
        with pytest.raises(paramiko.ssh_exception.NoValidConnectionsError):
            connect(h, n, timeout=3)
    finally:
        n.allow_ssh()
    n.freeze_sshd()
    try:
        with pytest.raises(paramiko.SSHException, match="banner"):
            connect(h, n, banner_timeout=1)
    finally:
        n.thaw_sshd()
    with connect(h, n) as c:
        assert run(c, "true")[0] == 0


def test_regenerate_host_key(h):
    n = h.nodes[1]
    old, old_fingerprint = n.host_key_public, n.host_key_fingerprint
    n.regenerate_host_key()
    assert n.host_key_fingerprint != old_fingerprint
    with pytest.raises(paramiko.BadHostKeyException):
        connect(h, n, host_key=old)
    with connect(h, n) as c:
        assert run(c, "hostname")[1] == "node2\n"


def test_by_hand_up_and_down_leave_nothing():
    try:
        check_available()
    except HarnessUnavailable as exc:
        require(False, f"fake SSH nodes: {exc}")
    py = [sys.executable, "-m", "tests.harness"]
    up = subprocess.run([*py, "up", "1", "--json"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)
    node = state["nodes"][0]
    with socket.create_connection((node["address"], 22), timeout=5) as s:  # survived `up` exiting
        assert s.recv(8).startswith(b"SSH-")
    down = subprocess.run([*py, "down", state["id"]], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert down.returncode == 0, down.stderr
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert node["netns"] not in netns and state["bridge"] not in links and f"rg{state['id']}" not in links
    assert not (ROOT / state["id"]).exists()
    with Harness.up(1, sudo=False) as h:
        names = [h.bridge, h.nodes[0].netns, h.nodes[0].veth]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert not any(x in links for x in names[::2]) and names[1] not in subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not h.dir.exists()
