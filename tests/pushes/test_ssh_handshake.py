"""The SSH edge a rolling push relies on (regui/remote/ssh.py): a connection in two halves, the pinned
host key checked first (`handshake`) and the credential sent only at `login`, so a connection opened
ahead of a node's turn gives a skipped node nothing; and TCP that neither holds small packets back
(TCP_NODELAY) nor delays its acknowledgements (TCP_QUICKACK), which cost a node's exit status ~40 ms."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from regui.remote import ssh
from tests.fakes.sshd import sshd


def test_a_handshake_checks_the_pinned_key_and_sends_no_credential_until_login():
    # The fake's password is the target's: a credential sent would be a login it records.
    with sshd() as node:
        target = node.target()
        transport = ssh.handshake(target, timeout=5, retries=1)
        try:
            assert transport.is_active() and not transport.is_authenticated() and node.server.logins == []
            ssh.login(transport, target)
            assert node.server.logins == ["root"] and transport.is_authenticated()
            assert ssh.run(transport, "echo", timeout=10).stdout == "fine\n"
        finally:
            transport.close()


def test_a_handshake_with_another_host_key_is_refused_before_any_credential():
    with sshd() as node:
        other = replace(node.target(), host_key=ssh.HostKey(
            node.pinned.type, "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA=="))
        with pytest.raises(ssh.HostKeyRefused):
            ssh.handshake(other, timeout=5, retries=1)
        assert node.server.logins == []


def test_the_connection_sends_small_packets_at_once_and_acknowledges_every_read():
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        sock = ssh._socket("127.0.0.1", listener.getsockname()[1], timeout=5)
        peer, _ = listener.accept()
        try:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert isinstance(sock, ssh._PromptSocket) and sock.gettimeout() == 5
            peer.sendall(b"SSH-2.0-test\r\n")
            assert sock.recv(64) == b"SSH-2.0-test\r\n"  # (and asked the kernel to acknowledge it at once)
        finally:
            peer.close()
            sock.close()
    finally:
        listener.close()
