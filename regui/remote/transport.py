"""The one place Django code gets its SSH from. Pure Python, no Django.

Services ask `current()` for the transport instead of calling `ssh` directly, so tests can put fake
nodes behind the same edge (`replaced(fake)`, see tests/fakes/ssh.py) and run push orchestration
in-process, without root, sshd or a worker. Production never replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import paramiko

from . import jump as jumphost
from . import ssh


class Session(Protocol):
    """An authenticated connection to one node."""

    def run(self, command: str, stdin: bytes = b"", timeout: float = 120,
            on_output: Callable[[bytes], None] | None = None) -> ssh.ExecResult:
        """`on_output` sees standard output as it arrives (a fake may give it all at the end)."""

    def alive(self) -> bool: ...

    def close(self) -> None: ...


class Opening(Protocol):
    """A connection whose host key was checked, not logged in yet (no credential sent)."""

    def login(self) -> Session: ...

    def alive(self) -> bool: ...

    def close(self) -> None: ...


class Transport(Protocol):
    """Raises ssh.SSHError subclasses, with ssh's messages, for everything an operator must read."""

    def connect(self, target: ssh.Target, *, timeout: float, retries: int, backoff: float) -> Session: ...

    def handshake(self, target: ssh.Target, *, timeout: float, retries: int, backoff: float) -> Opening: ...

    def scan_host_key(self, address: str, port: int, timeout: float, jump: ssh.Jump | None = None) -> ssh.HostKey:
        """`jump`: read through that jump host (logged in to it; nothing is sent to the node)."""
        ...


class _ParamikoSession:
    def __init__(self, transport: paramiko.Transport) -> None:
        self._transport = transport

    def run(self, command: str, stdin: bytes = b"", timeout: float = 120,
            on_output: Callable[[bytes], None] | None = None) -> ssh.ExecResult:
        return ssh.run(self._transport, command, stdin, timeout=timeout, on_output=on_output)

    def alive(self) -> bool:
        return self._transport.is_active()

    def close(self) -> None:
        self._transport.close()


class _ParamikoOpening:
    def __init__(self, transport: paramiko.Transport, target: ssh.Target) -> None:
        self._transport, self._target = transport, target

    def login(self) -> Session:
        login = jumphost.login if self._target.jump else ssh.login
        return _ParamikoSession(login(self._transport, self._target))

    def alive(self) -> bool:
        return self._transport.is_active()

    def close(self) -> None:
        self._transport.close()


class SSHTransport:
    """The real one: paramiko with pinned host keys (regui/remote/ssh.py), through the target's jump host
    when it has one (regui/remote/jump.py)."""

    def connect(self, target: ssh.Target, *, timeout: float, retries: int, backoff: float) -> Session:
        connect = jumphost.connect if target.jump else ssh.connect
        return _ParamikoSession(connect(target, timeout=timeout, retries=retries, backoff=backoff))

    def handshake(self, target: ssh.Target, *, timeout: float, retries: int, backoff: float) -> Opening:
        handshake = jumphost.handshake if target.jump else ssh.handshake
        return _ParamikoOpening(handshake(target, timeout=timeout, retries=retries, backoff=backoff), target)

    def scan_host_key(self, address: str, port: int, timeout: float, jump: ssh.Jump | None = None) -> ssh.HostKey:
        if jump is not None:
            return jumphost.scan_host_key(address, port, jump, timeout=timeout)
        return ssh.scan_host_key(address, port, timeout=timeout)


# A module global, not a context variable: a push's node threads must all see the same transport.
_current: Transport = SSHTransport()


def current() -> Transport:
    return _current


@contextmanager
def replaced(transport: Transport) -> Iterator[Transport]:
    """Use `transport` for every connection until the block ends (tests only)."""
    global _current
    previous, _current = _current, transport
    try:
        yield transport
    finally:
        _current = previous
