"""A node's output is read up to ssh.MAX_OUTPUT (1 MiB) per stream, for a push and for an import from
the node; beyond it the node fails with a message saying so, and the worker's memory stays bounded."""

from __future__ import annotations

import contextlib
import socket
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import paramiko
import pytest

from regui.remote import ssh

MIB = 1024 * 1024


class _Server(paramiko.ServerInterface):
    """An in-process sshd whose commands are `out N`, `err N` (send N bytes there) or `echo`."""

    def __init__(self) -> None:
        self.sent = {"out": 0, "err": 0}

    def check_auth_password(self, username: str, password: str) -> int:
        return paramiko.AUTH_SUCCESSFUL

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        threading.Thread(target=self._run, args=(channel, command.decode()), daemon=True).start()
        return True

    def _run(self, channel: paramiko.Channel, command: str) -> None:
        stream, _, size = command.partition(" ")
        send = channel.sendall_stderr if stream == "err" else channel.sendall
        try:
            # As `sh -s` does: stdin first, to its end. The client closes it only once the exec was
            # accepted, so nothing here can overtake the server's reply to the exec request.
            while channel.recv(32768):
                pass
            if stream == "echo":
                channel.sendall(b"fine\n")
            else:
                self.sent[stream] = 0
                while self.sent[stream] < int(size):
                    send(b"x" * 32768)
                    self.sent[stream] += 32768
            channel.send_exit_status(0)
            channel.close()
        except (OSError, EOFError):
            pass  # the client closed the channel (or the connection): what the bound is for


@contextmanager
def sshd() -> Iterator[tuple[_Server, ssh.Target]]:
    host_key = paramiko.ECDSAKey.generate()
    server = _Server()
    listener = socket.create_server(("127.0.0.1", 0))
    transports: list[paramiko.Transport] = []

    def serve() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            t = paramiko.Transport(sock)
            t.add_server_key(host_key)
            transports.append(t)
            # A client that went away during the handshake (its test failed already) is no error here.
            with contextlib.suppress(paramiko.SSHException, EOFError, OSError):
                t.start_server(server=server)

    threading.Thread(target=serve, daemon=True).start()
    target = ssh.Target("127.0.0.1", listener.getsockname()[1], "root",
                        ssh.HostKey(host_key.get_name(), host_key.get_base64()), password="pw")
    try:
        yield server, target
    finally:
        listener.close()
        for t in transports:
            t.close()


def run(target: ssh.Target, command: str) -> ssh.ExecResult:
    transport = ssh.connect(target, timeout=5, retries=1)
    try:
        return ssh.run(transport, command, timeout=20)
    finally:
        transport.close()


def test_output_within_the_bound_is_read_whole():
    with sshd() as (_, target):
        assert run(target, "echo").stdout == "fine\n"
        assert len(run(target, f"out {MIB - 32768}").stdout) == MIB - 32768


@pytest.mark.parametrize(("stream", "name"), [("out", "standard output"), ("err", "standard error")])
def test_a_node_that_sends_more_than_the_bound_fails_clearly_and_is_cut_off(stream, name):
    with sshd() as (server, target):
        tracemalloc.start()
        try:
            with pytest.raises(ssh.SSHError) as failure:
                run(target, f"{stream} {64 * MIB}")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert str(failure.value) == (f"the node sent more than 1 MiB on {name}: regui stopped reading there and "
                                  "closed the session, keeping none of it")
    assert not failure.value.unreachable
    # Cut off near the bound (plus what the channel's window let through), not read to the end.
    assert server.sent[stream] < 8 * MIB
    assert peak < 8 * MIB, f"peak {peak / MIB:.1f} MiB while reading"


# Through the app, against fake nodes that read their own output with the same bound.

@pytest.mark.django_db(transaction=True)
def test_import_from_a_node_whose_registries_yaml_is_5_mib_fails_with_the_reason(fleet, client):
    (node,) = fleet.add("agent")
    fleet["a1"].write("/etc/rancher/k3s/registries.yaml", b"# padding\n" * (5 * MIB // 10))
    client.force_login(fleet.user)
    r = client.post(f"/clusters/prod/nodes/{node.pk}/import/", follow=True)
    assert r.redirect_chain == [(f"/clusters/prod/nodes/{node.pk}/", 302)]
    assert [str(m) for m in r.context["messages"]] == [
        "Import from a1 failed: the node sent more than 1 MiB on standard output: regui stopped reading there "
        "and closed the session, keeping none of it"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("redirect", "name"), [("", "standard output"), (">&2", "standard error")])
def test_a_push_to_a_node_that_floods_its_output_fails_that_node_only(fleet, redirect, name):
    fleet.add("agent", shell=["sh", "-c", f"cat >/dev/null; head -c {8 * MIB} /dev/zero {redirect}"])
    fleet.add("agent")
    res = fleet.results(fleet.push())
    assert (res["a1"].status, res["a2"].status) == ("failed", "changed")
    assert res["a1"].message == (f"the node sent more than 1 MiB on {name}: regui stopped reading there and "
                                 "closed the session, keeping none of it")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_import_from_a_real_node_with_a_5_mib_registries_yaml_fails_clearly_in_bounded_memory(stack, nodes, client):
    h = nodes(1)
    (node,) = stack.add(h)
    h.nodes[0].write("/etc/rancher/k3s/registries.yaml", b"# padding\n" * (5 * MIB // 10), 0o600, 0, 0)
    client.force_login(stack.user)
    tracemalloc.start()
    try:
        r = client.post(f"/clusters/prod/nodes/{node.pk}/import/", follow=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [str(m) for m in r.context["messages"]] == [
        f"Import from {node.name} failed: the node sent more than 1 MiB on standard output: regui stopped reading "
        "there and closed the session, keeping none of it"]
    # Below the file's own size: reading it whole took 5 MiB for its bytes and as much again for its text.
    assert peak < 5 * MIB, f"peak {peak / MIB:.1f} MiB during the import"
