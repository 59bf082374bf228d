"""Fake jump hosts for tests/fakes/ssh.py: a node may be reachable only through one (`only_via`), and a
connection whose target names a jump host goes through it, checking what regui/remote/jump.py checks
(the jump host's pinned key, its credential, whether it forwards, whether it reaches the node) and
raising the same errors, named by hop, with the same words."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

from regui.remote import jump as jumping
from regui.remote import ssh

if TYPE_CHECKING:
    from tests.fakes.ssh import FakeSSH

T = TypeVar("T")
_inside = threading.local()  # the jump host a connection is going through in this thread, if any


@dataclass
class FakeJumpHost:
    name: str
    address: str
    port: int
    host_key: ssh.HostKey
    username: str = "jumper"
    credential: str = ""
    network: Literal["up", "refused", "timeout"] = "up"
    forwarding: bool = True  # False: AllowTcpForwarding no
    logins: list[float] = field(default_factory=list)  # a connection logged in through it (jump hop passed)
    forwards: list[tuple[str, int]] = field(default_factory=list)  # where it opened channels to

    def __post_init__(self) -> None:
        self.credential = self.credential or f"-----BEGIN OPENSSH PRIVATE KEY-----\nfake jump {self.name}\n"


def through(fake: FakeSSH, target: ssh.Target, timeout: float, inner: Callable[[], T]) -> T:
    """`inner` (the fake's own connect, handshake or scan of the node) through the target's jump host."""
    jump = target.jump
    assert jump is not None
    via = jump.target
    host = fake.jump_hosts.get((via.address, via.port))
    if via.host_key is None:
        raise jumping.jump_no_approved_key(jump)
    if host is None or host.network == "refused":
        raise jumping.at_jump(jump, ssh.cannot_connect(via.address, via.port, "Connection refused"))
    if host.network == "timeout":
        raise jumping.at_jump(jump, ssh.timed_out(via.address, via.port, timeout))
    if host.host_key.type != via.host_key.type:
        raise jumping.jump_key_type_refused(jump)
    if host.host_key.key != via.host_key.key:
        raise jumping.jump_key_changed(jump, host.host_key)
    if via.username != host.username or (via.private_key or via.password) != host.credential:
        raise jumping.at_jump(jump, ssh.credentials_refused(via.username, via.address))
    host.logins.append(0.0)
    if not host.forwarding:
        raise jumping.forwarding_refused(target, "administratively prohibited")
    host.forwards.append((target.address, target.port))
    _inside.host = host
    try:
        return inner()
    except ssh.SSHError as exc:
        raise exc if exc.hop else jumping.via_jump(target, exc) from None
    finally:
        _inside.host = None


def reachable(only_via: str) -> bool:
    """Whether a node reachable only through `only_via` ("" for any way) is reached from here."""
    host = getattr(_inside, "host", None)
    return not only_via or (host is not None and host.name == only_via)


def passing() -> bool:
    """Whether this thread's connection has passed its jump host already (and now reaches the node)."""
    return getattr(_inside, "host", None) is not None


def node_hop(target: ssh.Target, exc: ssh.SSHError) -> ssh.SSHError:
    """`exc`, named as the node's hop when the target is reached through a jump host."""
    return jumping.via_jump(target, exc) if target.jump is not None and not exc.hop else exc


def scan(host: FakeJumpHost, timeout: float) -> ssh.HostKey:
    """The jump host's own key, read straight from it."""
    if host.network == "refused":
        raise ssh.cannot_connect(host.address, host.port, "Connection refused")
    if host.network == "timeout":
        raise ssh.timed_out(host.address, host.port, timeout)
    return host.host_key
