"""A TCP connection made ahead of its SSH handshake (ssh.Dialed, Transport.dial): the node's sshd starts the
session while regui renders, and the handshake then goes over that very connection. Nothing is sent over
it before the handshake; a dial that failed is the handshake's first attempt, not an extra one."""

from __future__ import annotations

import socket
import time
from dataclasses import replace

import pytest

from regui.remote import ssh, transport
from tests.fakes.sshd import sshd


def _closed_port() -> int:
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def test_a_handshake_goes_over_the_connection_made_ahead_and_opens_no_other():
    with sshd() as node:
        target = node.target()
        dialed = ssh.Dialed(target.address, target.port, timeout=5)
        for _ in range(50):  # the server's accept runs in its own thread
            if node.server.transports:
                break
            time.sleep(0.01)
        assert len(node.server.transports) == 1 and node.server.logins == [], "accepted, nothing sent yet"
        t = ssh.handshake(target, timeout=5, retries=1, dialed=dialed)
        try:
            ssh.login(t, target)
            assert ssh.run(t, "echo", timeout=10).stdout == "fine\n"
            assert len(node.server.transports) == 1, "the one made ahead, not a second connection"
        finally:
            t.close()


def test_a_dial_that_failed_is_the_handshakes_first_attempt(monkeypatch):
    port = _closed_port()
    dialed, again = (ssh.Dialed("127.0.0.1", port, timeout=2) for _ in range(2))
    attempts: list[int] = []
    real = ssh._socket

    def counted(address, p, timeout):
        attempts.append(p)
        return real(address, p, timeout)

    monkeypatch.setattr(ssh, "_socket", counted)
    target = ssh.Target("127.0.0.1", port, "root", ssh.HostKey("ssh-ed25519", "AAAA"), password="pw")
    with pytest.raises(ssh.Unreachable, match=f"cannot connect to 127.0.0.1:{port}"):
        ssh.handshake(target, timeout=2, retries=1, dialed=dialed)
    assert attempts == [], "one attempt in all, the dial's"
    with pytest.raises(ssh.Unreachable):
        ssh.handshake(target, timeout=2, retries=2, backoff=0, dialed=again)
    assert attempts == [port], "the second attempt dials again"


def test_a_connection_made_ahead_to_where_the_node_was_is_closed_and_not_used():
    with sshd() as old, sshd() as new:
        dialed = ssh.Dialed("127.0.0.1", old.port, timeout=5)
        t = ssh.handshake(new.target(), timeout=5, retries=1, dialed=dialed)
        try:
            assert t.is_active() and len(new.server.transports) == 1
            with pytest.raises(ssh.Unreachable):
                dialed.take()
        finally:
            t.close()


def test_the_transport_closes_a_connection_made_ahead_for_a_node_behind_a_jump_host(monkeypatch):
    closed: list[bool] = []

    class Ahead(ssh.Dialed):
        def close(self) -> None:
            closed.append(True)
            super().close()

    def through_jump(target, **kwargs):
        raise ssh.Unreachable("the jump host is down")

    monkeypatch.setattr(transport.jumphost, "handshake", through_jump)
    with sshd() as node:
        behind = replace(node.target(), jump=ssh.Jump("bastion", node.target()))
        with pytest.raises(ssh.Unreachable, match="jump host is down"):
            transport.SSHTransport().handshake(behind, timeout=5, retries=1, backoff=0,
                                               dialed=Ahead("127.0.0.1", node.port, timeout=5))
    assert closed == [True]


def test_closing_a_connection_made_ahead_twice_is_harmless():
    with sshd() as node:
        dialed = ssh.Dialed("127.0.0.1", node.port, timeout=5)
        dialed.close()
        dialed.close()
        with pytest.raises(ssh.Unreachable):
            dialed.take()
