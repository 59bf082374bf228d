"""A node's output is read up to ssh.MAX_OUTPUT (1 MiB) per stream, for a push and for an import from
the node; beyond it the node fails with a message saying so, and the worker's memory stays bounded. The
SSH layer's bound against the in-process sshd (tests/fakes/sshd.py), whose `out N` / `err N` flood a stream."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import paramiko
import pytest

from regui.remote import ssh
from tests.fakes.sshd import Listening, sshd

MIB = 1024 * 1024


@contextmanager
def connected(node: Listening) -> Iterator[paramiko.Transport]:
    transport = ssh.connect(node.target(), timeout=5, retries=1)
    try:
        yield transport
    finally:
        transport.close()


def run(node: Listening, command: str) -> ssh.ExecResult:
    with connected(node) as transport:
        return ssh.run(transport, command, timeout=20)


def test_output_within_the_bound_is_read_whole():
    with sshd() as node:
        assert run(node, "echo").stdout == "fine\n"
        assert len(run(node, f"out {MIB - 32768}").stdout) == MIB - 32768


@pytest.mark.parametrize(("stream", "name"), [("out", "standard output"), ("err", "standard error")])
def test_a_node_that_sends_more_than_the_bound_fails_clearly_and_is_cut_off(stream, name):
    with sshd() as node, connected(node) as transport:
        tracemalloc.start()
        try:
            with pytest.raises(ssh.SSHError) as failure:
                ssh.run(transport, f"{stream} {64 * MIB}", timeout=20)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # regui closed the session itself, at once: the node's command saw its channel close while the
        # connection stayed up (left open, it would have lasted until the deadline closed the connection).
        assert node.server.cut_off.wait(10)
        assert transport.is_active()
    assert str(failure.value) == (f"the node sent more than 1 MiB on {name}: regui stopped reading there and "
                                  "closed the session, keeping none of it")
    assert not failure.value.unreachable
    # Cut off near the bound (plus what the channel's window let through), not read to the end.
    assert node.server.sent[stream] < 8 * MIB
    assert peak < 8 * MIB, f"peak {peak / MIB:.1f} MiB while reading"


# The reader itself, driven by a fake channel: deterministic, no sshd, no memory measurement.

class FloodingChannel:
    """A channel whose stream gives `chunks` chunks of `size` bytes (forever if None), counting reads."""

    def __init__(self, size: int, chunks: int | None = None) -> None:
        self.size, self.left, self.reads, self.closed = size, chunks, 0, False

    def recv(self, nbytes: int) -> bytes:
        assert not self.closed, "read after regui closed the channel"
        self.reads += 1
        if self.left is not None:
            if self.left == 0:
                return b""
            self.left -= 1
        return b"x" * min(self.size, nbytes)

    def close(self) -> None:
        self.closed = True


def test_the_reader_past_its_bound_drops_what_it_read_closes_the_channel_and_stops_reading():
    channel, seen = FloodingChannel(32768), []
    reader = ssh._BoundedReader(channel, channel.recv, 100_000, seen.append)
    reader.read()
    assert reader.over and reader.error is None
    assert reader.data == bytearray(), "what was read past the bound is not kept"
    assert channel.closed
    assert channel.reads == 4 == len(seen), "it stopped at the first chunk past the bound (4 x 32 KiB > 100 kB)"


def test_the_reader_keeps_a_stream_that_ends_at_its_bound_whole():
    channel = FloodingChannel(25_000, chunks=4)
    reader = ssh._BoundedReader(channel, channel.recv, 100_000)
    reader.read()
    assert not reader.over and reader.error is None
    assert len(reader.data) == 100_000 and not channel.closed and channel.reads == 5


def test_the_reader_keeps_an_error_for_the_caller_instead_of_raising_in_its_thread():
    def recv(nbytes: int) -> bytes:
        raise OSError("link down")

    channel = FloodingChannel(1)
    reader = ssh._BoundedReader(channel, recv, 100)
    reader.read()
    assert isinstance(reader.error, OSError) and not reader.over and not channel.closed


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
