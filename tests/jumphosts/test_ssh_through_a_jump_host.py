"""The SSH layer through a jump host (regui/remote/jump.py), against in-process paramiko servers: the jump
host's own pinned key and credential, a `direct-tcpip` channel to the node, the node's pinned key and
credential inside it; every failure says which hop failed, and both connections close."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import paramiko
import pytest

from regui.remote import jump as jumping
from regui.remote import ssh
from tests.fakes.sshd import Listening, Server, sshd
from tests.threads import errors_in_threads

NODE = "k3s-a.invalid"  # resolves nowhere: only the jump host knows the way


@contextmanager
def network(**bastion: object) -> Iterator[tuple[Listening, Listening, ssh.Target]]:
    """A node reachable only through a jump host; the target connects to the node through it."""
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw", **bastion)) as jump:  # type: ignore[arg-type]
        jump.server.routes[(NODE, 22)] = ("127.0.0.1", node.port)
        via = ssh.Jump("bastion-1", ssh.Target("127.0.0.1", jump.port, "jumper", jump.pinned, password="jump-pw"))
        yield node, jump, ssh.Target(NODE, 22, "root", node.pinned, password="node-pw", jump=via, name="k3s-a")


def run(target: ssh.Target) -> ssh.ExecResult:
    transport = (jumping.connect if target.jump else ssh.connect)(target, timeout=5, retries=1)
    try:
        return ssh.run(transport, "echo", timeout=10)
    finally:
        transport.close()


def failure(target: ssh.Target) -> ssh.SSHError:
    with pytest.raises(ssh.SSHError) as caught:
        run(target)
    return caught.value


def other_key() -> ssh.HostKey:
    key = paramiko.ECDSAKey.generate()
    return ssh.HostKey(key.get_name(), key.get_base64())


def eventually(check, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_command_runs_on_a_node_through_its_jump_host_and_both_logins_are_its_own():
    with network() as (node, jump, target):
        assert run(target).stdout == "fine\n"
        assert jump.server.logins == ["jumper"] and node.server.logins == ["root"]
        assert jump.server.forwards == [(NODE, 22)]


def test_the_node_cannot_be_reached_without_its_jump_host():
    with network() as (_, _, target):
        error = failure(replace(target, jump=None))
    assert isinstance(error, ssh.Unreachable) and error.hop == ""
    assert str(error).startswith(f"cannot connect to {NODE}:22")


def test_both_connections_close_when_the_session_closes():
    with network() as (_, jump, target):
        transport = jumping.connect(target, timeout=5, retries=1)
        assert jump.active() == 1
        transport.close()
        assert not transport.is_active() and eventually(lambda: jump.active() == 0)


def test_a_changed_jump_host_key_is_refused_naming_the_jump_host_and_nothing_is_sent():
    with network() as (node, jump, target):
        assert target.jump is not None
        moved = replace(target.jump.target, host_key=other_key())
        error = failure(replace(target, jump=replace(target.jump, target=moved)))
        assert jump.server.logins == [] and jump.server.forwards == [] and node.server.transports == []
    assert isinstance(error, ssh.HostKeyRefused) and error.hop == "jump"
    assert str(error).startswith(f"jump host bastion-1 (127.0.0.1:{jump.port}): host key changed: approved "
                                 f"{moved.host_key.type} {moved.host_key.fingerprint}, the jump host now presents "
                                 f"{jump.pinned.type} {jump.pinned.fingerprint}. Nothing was sent.")


def test_a_jump_host_of_another_key_type_is_refused_naming_the_jump_host():
    with network() as (_, jump, target):
        assert target.jump is not None
        ed25519 = ssh.HostKey("ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl")
        error = failure(replace(target, jump=replace(target.jump, target=replace(target.jump.target, host_key=ed25519))))
    assert isinstance(error, ssh.HostKeyRefused) and error.hop == "jump"
    assert str(error).startswith(f"jump host bastion-1 (127.0.0.1:{jump.port}): offers no host key of the pinned type")


def test_a_jump_host_without_an_approved_key_is_not_connected_to():
    with network() as (_, jump, target):
        assert target.jump is not None
        error = failure(replace(target, jump=replace(target.jump, target=replace(target.jump.target, host_key=None))))
        assert jump.server.transports == []
    assert isinstance(error, ssh.HostKeyRefused) and error.hop == "jump"
    assert "no approved host key: scan the jump host's key" in str(error)


def test_a_changed_node_key_behind_the_jump_host_is_refused_naming_the_node_and_the_way():
    with network() as (node, jump, target):
        pinned = other_key()
        error = failure(replace(target, host_key=pinned))
        assert node.server.logins == [] and jump.server.logins == ["jumper"]
    assert isinstance(error, ssh.HostKeyRefused) and error.hop == "node"
    assert str(error).startswith(f"node k3s-a ({NODE}:22) via jump host bastion-1: host key of {NODE}:22 changed: "
                                 f"approved {pinned.type} {pinned.fingerprint}, node now presents "
                                 f"{node.pinned.type} {node.pinned.fingerprint}")


def test_a_jump_host_that_refuses_its_credential_is_named():
    with network() as (node, jump, target):
        assert target.jump is not None
        error = failure(replace(target, jump=replace(target.jump, target=replace(target.jump.target, password="x"))))
        assert node.server.transports == []
    assert isinstance(error, ssh.AuthFailed) and error.hop == "jump"
    assert str(error) == f"jump host bastion-1 (127.0.0.1:{jump.port}): jumper@127.0.0.1 refused the credentials"


def test_a_node_that_refuses_its_credential_behind_the_jump_host_is_named():
    with network() as (_, _, target):
        error = failure(replace(target, password="x"))
    assert isinstance(error, ssh.AuthFailed) and error.hop == "node"
    assert str(error) == f"node k3s-a ({NODE}:22) via jump host bastion-1: root@{NODE} refused the credentials"


def test_a_jump_host_that_forwards_nothing_is_named_and_the_node_is_not_reached():
    with network(forwarding=False) as (node, jump, target):
        error = failure(target)
        assert node.server.transports == []
    assert isinstance(error, jumping.ForwardingRefused) and error.hop == "jump" and not error.unreachable
    assert str(error).startswith(f"jump host bastion-1 (127.0.0.1:{jump.port}): refused to open a connection to "
                                 f"node k3s-a ({NODE}:22): ")
    assert "AllowTcpForwarding" in str(error)


def test_a_node_the_jump_host_cannot_reach_is_unreachable_via_the_jump_host():
    with network() as (_, _, target):
        error = failure(replace(target, address="k3s-gone.invalid"))
    assert isinstance(error, ssh.Unreachable) and error.hop == "node"
    assert str(error).startswith("node k3s-a (k3s-gone.invalid:22) via jump host bastion-1: cannot connect to "
                                 "k3s-gone.invalid:22: the jump host says ")


def test_an_unreachable_jump_host_is_named():
    with network() as (_, jump, target):
        assert target.jump is not None
        port = jump.port
    # (the servers are gone: nothing listens on the jump host's port any more)
    error = failure(target)
    assert isinstance(error, ssh.Unreachable) and error.hop == "jump"
    assert str(error).startswith(f"jump host bastion-1 (127.0.0.1:{port}): cannot connect to 127.0.0.1:{port}")


def test_a_scan_reads_the_node_key_through_the_jump_host_without_logging_in_to_the_node():
    with network() as (node, jump, target):
        assert target.jump is not None
        key = jumping.scan_host_key(NODE, 22, target.jump, timeout=5)
        assert key == node.pinned
        assert node.server.logins == [] and jump.server.logins == ["jumper"]
        assert eventually(lambda: jump.active() == 0)


def test_nodes_connected_at_the_same_time_each_have_their_own_jump_connection_closed_with_theirs():
    with network() as (node, jump, target):
        jump.server.routes[("k3s-b.invalid", 22)] = ("127.0.0.1", node.port)
        targets = [target, replace(target, address="k3s-b.invalid", name="k3s-b")] * 3
        sessions: list[paramiko.Transport] = []
        lock = threading.Lock()

        def open_one(t: ssh.Target) -> None:
            transport = jumping.connect(t, timeout=5, retries=1)
            with lock:
                sessions.append(transport)

        assert errors_in_threads(open_one, targets) == []
        assert len(sessions) == 6 and len(jump.server.logins) == 6 and len(node.server.logins) == 6
        assert all(ssh.run(s, "echo", timeout=10).stdout == "fine\n" for s in sessions)
        sessions[0].close()
        assert eventually(lambda: jump.active() == 5)
        assert all(ssh.run(s, "echo", timeout=10).stdout == "fine\n" for s in sessions[1:]), "the others go on"
        for s in sessions[1:]:
            s.close()
        assert eventually(lambda: jump.active() == 0) and not any(s.is_active() for s in sessions)


def test_the_direct_ssh_layer_never_connects_straight_to_a_node_that_has_a_jump_host():
    with network() as (node, _, target):
        with pytest.raises(ValueError):
            ssh.connect(target, timeout=5, retries=1)
        assert node.server.transports == []

