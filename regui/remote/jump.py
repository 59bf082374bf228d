"""SSH to a node through a jump host (paramiko over a `direct-tcpip` channel). Pure Python, no Django.

An SSH connection to the jump host, checked against the jump host's own pinned key and logged in with
its own credential; a `direct-tcpip` channel from there to the node; and the node's SSH inside that
channel, checked against the node's pinned key and logged in with the node's credential. No key is
accepted unseen on either hop, and each error names its hop (`SSHError.hop`: "jump" or "node").
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import paramiko
from paramiko.common import OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED, cMSG_IGNORE

from . import places, ssh


class ForwardingRefused(ssh.SSHError):
    """The jump host would not open a connection to the node (AllowTcpForwarding no, PermitOpen):
    its configuration, not the network; retrying does not help."""


def _named(exc: ssh.SSHError, prefix: str, hop: str) -> ssh.SSHError:
    named = type(exc)(f"{prefix}: {exc}")
    named.hop = hop
    return named


def at_jump(jump: ssh.Jump, exc: ssh.SSHError) -> ssh.SSHError:
    """`exc` happened on the way to the jump host itself."""
    return _named(exc, f"jump host {jump.name} ({jump.target.address}:{jump.target.port})", "jump")


def via_jump(target: ssh.Target, exc: ssh.SSHError) -> ssh.SSHError:
    """`exc` happened on the way from the jump host to the node."""
    assert target.jump is not None
    return _named(exc, f"node {target.name or target.address} ({target.address}:{target.port}) via jump host "
                       f"{target.jump.name}", "node")


def jump_no_approved_key(jump: ssh.Jump) -> ssh.SSHError:
    return at_jump(jump, ssh.HostKeyRefused("no approved host key: scan the jump host's key and approve it "
                                            "first. Nothing was sent."))


def jump_key_changed(jump: ssh.Jump, offered: ssh.HostKey) -> ssh.SSHError:
    pinned = jump.target.host_key
    assert pinned is not None
    return at_jump(jump, ssh.HostKeyRefused(
        f"host key changed: approved {pinned.type} {pinned.fingerprint}, the jump host now presents "
        f"{offered.type} {offered.fingerprint}. Nothing was sent. If the change is expected, scan and approve "
        "the jump host's new key."))


def jump_key_type_refused(jump: ssh.Jump) -> ssh.SSHError:
    return at_jump(jump, ssh.HostKeyRefused("offers no host key of the pinned type: the jump host's key "
                                            "changed. Scan its key again and approve it if the change is expected."))


def forwarding_refused(target: ssh.Target, detail: str) -> ssh.SSHError:
    assert target.jump is not None
    return at_jump(target.jump, ForwardingRefused(
        f"refused to open a connection to node {target.name or target.address} ({target.address}:{target.port}): "
        f"{detail} (is AllowTcpForwarding off on the jump host?). Nothing was sent to the node."))


class _JumpHop(paramiko.Transport):
    """A transport to a jump host. paramiko keeps only the name of a refused channel's reason code; the
    jump host also says why it could not connect (OpenSSH: "Connection refused", "No route to host"),
    which is what an operator needs: kept on the exception."""

    def _parse_channel_open_failure(self, m: paramiko.Message) -> None:
        m.get_int()
        m.get_int()
        said = m.get_text()
        m.rewind()
        super()._parse_channel_open_failure(m)  # type: ignore[misc]
        with self.lock:
            exc = self.saved_exception
            if isinstance(exc, paramiko.ChannelException) and said and said != "open failed":
                exc.text = f"{exc.text}: {said}"


class _ViaJump(paramiko.Transport):
    """A transport to a node inside a channel of a jump host's; closing it closes the jump host's too."""

    lease: _Lease | None = None

    def _parse_global_request(self, m: paramiko.Message) -> None:
        """Answer with an SSH_MSG_IGNORE as well. OpenSSH sends a global request (hostkeys-00@openssh.com)
        right after the login succeeded; the node's TCP holds back its next packet (the answer to our
        first channel) until the jump host's kernel acknowledges that one, which it delays (~40 ms) while
        it has nothing to send the node. The ignore gives it something: the acknowledgement goes at once.
        (Directly, TCP_QUICKACK on our own socket does this: see ssh._PromptSocket.)"""
        super()._parse_global_request(m)  # type: ignore[misc]
        ignore = paramiko.Message()
        ignore.add_byte(cMSG_IGNORE)
        ignore.add_string(b"")
        self._send_message(ignore)  # type: ignore[attr-defined]

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.lease is not None:
                self.lease.release()


class _Lease:
    """A node connection's own logged-in connection to its jump host, closed with it.

    Not shared between nodes, though that would save logins on the bastion: paramiko may still send a
    channel's data after the jump host closed that channel (it checks and sends under different locks),
    and OpenSSH then drops the whole connection ("data packet referred to nonexistent channel") with
    every other node's channel in it. Measured with bench/jump.py: 6 to 17 of 20 nodes failed at once.
    One connection each keeps a node's end from touching any other's."""

    def __init__(self, transport: paramiko.Transport) -> None:
        self.transport, self._released, self._lock = transport, False, threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self.transport.close()


_gates: dict[tuple[str, int, int, str], places.Places] = {}
_gates_lock = threading.Lock()


def _gate(jump: ssh.Jump) -> places.Places:
    """Logins to this jump host in progress at once, on this machine, at most `jump.handshakes`.

    Each node connection logs in to the jump host (see _Lease), so a push's agents would all be
    half-open on the bastion at once, and a stock sshd drops unauthenticated connections at random
    beyond its `MaxStartups 10:30:100`. A worker runs several processes (and a machine may run several
    workers): the places are files in `jump.places_dir`, shared by them all (places.py); without one,
    or when it cannot be used, each process counts its own. Held from the TCP connect to the end of the
    login only: a logged-in connection no longer counts there."""
    target = jump.target
    limit = max(1, jump.handshakes)
    key = (target.address, target.port, limit, jump.places_dir)
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            folder = os.path.join(jump.places_dir, f"{target.address.replace('/', '_')}_{target.port}") \
                if jump.places_dir else None
            gate = _gates[key] = places.Places(
                folder, limit, f"logins to jump host {jump.name} ({target.address}:{target.port})")
        return gate


@contextmanager
def _login_place(jump: ssh.Jump, timeout: float) -> Iterator[None]:
    """A place to log in to the jump host. Waiting for it does not eat into the login's `timeout`: that
    starts once it has one. The wait gives up only once `timeout` went by with no login to the jump host
    from this machine starting or ending: a long queue that moves is waited through, a stuck one is not."""
    gate = _gate(jump)
    try:
        with gate.held(timeout):
            yield
    except places.Stalled:
        raise at_jump(jump, ssh.Unreachable(
            f"no place to log in: for {timeout:g} s none of the logins to it in progress from this machine ended "
            f"(at most {gate.limit} at once: REGUI_JUMP_HANDSHAKES)")) from None


def _jump_lease(jump: ssh.Jump, *, timeout: float, retries: int, backoff: float) -> _Lease:
    return _Lease(_jump_connect(jump, timeout=timeout, retries=retries, backoff=backoff))


def _jump_connect(jump: ssh.Jump, *, timeout: float, retries: int, backoff: float) -> paramiko.Transport:
    target = jump.target
    if target.host_key is None:
        raise jump_no_approved_key(jump)
    attempt = 0
    while True:
        attempt += 1
        try:
            with _login_place(jump, timeout):  # not held while sleeping between attempts
                return _jump_login(jump, timeout)
        except ssh.Unreachable as exc:
            if exc.hop or attempt >= retries:
                raise exc if exc.hop else at_jump(jump, exc) from None
            time.sleep(backoff * 2 ** (attempt - 1))


def _jump_login(jump: ssh.Jump, timeout: float) -> paramiko.Transport:
    """One attempt: connect, check the jump host's key, log in. Network errors come back unnamed (to retry)."""
    target = jump.target
    assert target.host_key is not None
    pinned = target.host_key
    try:
        transport = ssh._start(target.address, target.port, timeout, ssh._ALGORITHMS.get(pinned.type, [pinned.type]),
                               cls=_JumpHop)
    except ssh.HostKeyRefused:
        raise jump_key_type_refused(jump) from None
    try:
        offered = transport.get_remote_server_key()
    except paramiko.SSHException:
        transport.close()
        raise at_jump(jump, ssh.Unreachable("the SSH session ended during the handshake")) from None
    if offered.get_base64() != pinned.key:
        transport.close()
        raise jump_key_changed(jump, ssh.HostKey(offered.get_name(), offered.get_base64()))
    try:
        ssh._authenticate(transport, target)
    except ssh.SSHError as exc:
        transport.close()
        raise at_jump(jump, exc) from None
    if not _logged_in(transport, timeout):
        raise at_jump(jump, ssh.Unreachable(f"no answer after the login within {timeout:g} s"))
    return transport


def _logged_in(transport: paramiko.Transport, timeout: float) -> bool:
    """Wait for one answer from the jump host after the login, still inside the gate. OpenSSH tells its
    listener (which counts MaxStartups) that a login completed only after our client already read the
    success, so under load a freed place could be taken before sshd had counted it free. Its answer to a
    request (`keepalive@openssh.com`, refused: it knows none) comes from the process started after it
    told the listener; a later connection is accepted after the listener read that. Costs one round trip."""
    watchdog = threading.Timer(timeout, transport.close)  # paramiko waits for the answer without a deadline
    watchdog.daemon = True
    watchdog.start()
    try:
        transport.global_request("keepalive@openssh.com", wait=True)
    finally:
        watchdog.cancel()
    if transport.is_active():
        return True
    transport.close()
    return False


def _forward(lease: _Lease, target: ssh.Target, timeout: float) -> paramiko.Channel:
    """A `direct-tcpip` channel from the jump host to the node."""
    assert target.jump is not None
    try:
        return lease.transport.open_channel("direct-tcpip", (target.address, target.port), ("127.0.0.1", 0),
                                            timeout=timeout)
    except paramiko.ChannelException as exc:
        if exc.code == OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED:
            raise forwarding_refused(target, exc.text or "administratively prohibited") from None
        raise ssh.cannot_connect(target.address, target.port, f"the jump host says {exc.text}") from None
    except (paramiko.SSHException, EOFError, OSError) as exc:
        if not lease.transport.is_active():
            raise at_jump(target.jump, ssh.connection_lost(str(exc) or type(exc).__name__)) from None
        if "Timeout" in str(exc):
            raise ssh.timed_out(target.address, target.port, timeout) from None
        raise ssh.cannot_connect(target.address, target.port, str(exc) or type(exc).__name__) from None


def _start_via(lease: _Lease, target: ssh.Target, timeout: float, key_types: list[str] | None) -> paramiko.Transport:
    channel = _forward(lease, target, timeout)
    try:
        return ssh._start(target.address, target.port, timeout, key_types, sock=channel, cls=_ViaJump)
    except ssh.SSHError:
        channel.close()
        raise


def handshake(target: ssh.Target, *, timeout: float = 10, retries: int = 3, backoff: float = 1.0) -> paramiko.Transport:
    """`ssh.handshake` through the target's jump host: the jump host is logged in to (its key checked),
    the node only shaken hands with (its key checked, nothing of its credential sent). Network errors
    on the way to the node are retried; the jump host's connection retried them already."""
    assert target.jump is not None and target.host_key is not None
    pinned = target.host_key
    lease = _jump_lease(target.jump, timeout=timeout, retries=retries, backoff=backoff)
    try:
        attempt = 0
        while True:
            attempt += 1
            try:
                transport = _start_via(lease, target, timeout, ssh._ALGORITHMS.get(pinned.type, [pinned.type]))
                break
            except ssh.Unreachable as exc:
                if exc.hop == "jump" or attempt >= retries:
                    raise exc if exc.hop else via_jump(target, exc) from None
                time.sleep(backoff * 2 ** (attempt - 1))
            except ssh.SSHError as exc:
                raise exc if exc.hop else via_jump(target, exc) from None
    except BaseException:
        lease.release()
        raise
    assert isinstance(transport, _ViaJump)
    transport.lease = lease  # from here on, closing the transport closes the jump host's too
    try:
        offered = transport.get_remote_server_key()
    except paramiko.SSHException:
        transport.close()
        raise via_jump(target, ssh.Unreachable("the SSH session ended during the handshake")) from None
    if offered.get_base64() != pinned.key:
        transport.close()
        raise via_jump(target, ssh.key_changed(target.address, target.port, pinned,
                                               ssh.HostKey(offered.get_name(), offered.get_base64())))
    return transport


def scan_host_key(address: str, port: int, jump: ssh.Jump, timeout: float = 10) -> ssh.HostKey:
    """The key a node presents now, read through the jump host (whose own key must be approved)."""
    target = ssh.Target(address, port, "", None, jump=jump)
    lease = _jump_lease(jump, timeout=timeout, retries=1, backoff=0)
    try:
        try:
            transport = _start_via(lease, target, timeout, None)
        except ssh.SSHError as exc:
            raise exc if exc.hop else via_jump(target, exc) from None
        try:
            key = transport.get_remote_server_key()
            return ssh.HostKey(key.get_name(), key.get_base64())
        finally:
            transport.close()
    finally:
        lease.release()


def login(transport: paramiko.Transport, target: ssh.Target) -> paramiko.Transport:
    """Log in to the node on a transport from `handshake` (its credential goes to the node only now)."""
    try:
        return ssh.login(transport, target)
    except ssh.SSHError as exc:
        raise via_jump(target, exc) from None


def connect(target: ssh.Target, *, timeout: float = 10, retries: int = 3, backoff: float = 1.0) -> paramiko.Transport:
    """An authenticated transport to the node through its jump host; closing it lets go of the jump host."""
    return login(handshake(target, timeout=timeout, retries=retries, backoff=backoff), target)
