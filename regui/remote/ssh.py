"""SSH to one node with a pinned host key (paramiko). Pure Python, no Django.

Host keys are never accepted on first sight: a connection negotiates only the pinned key's type
and is refused, with both fingerprints, when the node presents a different key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paramiko

from . import keys
from .errors import AuthFailed as AuthFailed
from .errors import HostKeyRefused as HostKeyRefused
from .errors import SSHError as SSHError
from .errors import Unreachable as Unreachable

# The key types paramiko may negotiate for a pinned key of each type.
_ALGORITHMS = {
    "ssh-ed25519": ["ssh-ed25519"],
    "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
    "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
    "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
    "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
}


@dataclass(frozen=True)
class HostKey:
    type: str
    key: str  # base64 of the public key blob, as in known_hosts

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)


@dataclass(frozen=True)
class Target:
    address: str
    port: int
    username: str
    host_key: HostKey | None
    private_key: str = ""
    password: str = ""
    use_sudo: bool = False
    passphrase: str = ""  # of an encrypted private key
    jump: Jump | None = None  # reached through this jump host: connect with regui/remote/jump.py
    name: str = ""  # the node's name, for messages that must say which hop failed


@dataclass(frozen=True)
class Jump:
    name: str
    target: Target  # the jump host's address, port, user, credential and pinned host key
    handshakes: int = 8  # logins to it in progress at once, at most (regui/remote/jump.py: MaxStartups)
    places_dir: str = ""  # where the processes of a machine count those logins together ("": each its own)


def fingerprint(key_b64: str) -> str:
    digest = hashlib.sha256(base64.b64decode(key_b64)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


# What an operator reads for each failure, in one place: the transport below raises these, and the
# tests' fake transport (tests/fakes/ssh.py) raises the same ones, so its messages cannot drift.

def no_approved_key() -> HostKeyRefused:
    return HostKeyRefused("no approved host key: scan the node's host key and approve it first")


def key_type_refused(address: str, port: int) -> HostKeyRefused:
    return HostKeyRefused(
        f"{address}:{port} offers no host key of the pinned type: the node's host key changed. "
        "Scan the host key again and approve it if the change is expected."
    )


def key_changed(address: str, port: int, pinned: HostKey, offered: HostKey) -> HostKeyRefused:
    return HostKeyRefused(
        f"host key of {address}:{port} changed: approved {pinned.type} {pinned.fingerprint}, "
        f"node now presents {offered.type} {offered.fingerprint}. Nothing was sent. "
        "If the change is expected, scan and approve the new key."
    )


def timed_out(address: str, port: int, timeout: float) -> Unreachable:
    return Unreachable(f"connection to {address}:{port} timed out after {timeout:g} s")


def cannot_connect(address: str, port: int, reason: str) -> Unreachable:
    return Unreachable(f"cannot connect to {address}:{port}: {reason}")


def no_handshake(address: str, port: int, timeout: float, detail: str) -> Unreachable:
    return Unreachable(f"no SSH handshake with {address}:{port} within {timeout:g} s ({detail})")


def credentials_refused(username: str, address: str) -> AuthFailed:
    return AuthFailed(f"{username}@{address} refused the credentials")


def no_answer(timeout: float) -> Unreachable:
    return Unreachable(f"the node stopped answering: no result within {timeout:g} s")


def connection_lost(detail: str) -> Unreachable:
    return Unreachable(f"connection lost: {detail}")


# The most a node may send on each of stdout and stderr for one command. A push's report is a few
# KiB and registries.yaml is at most 1 MiB (regui refuses bigger ones); beyond this a node is broken
# or hostile, and reading on would only fill the worker's memory.
MAX_OUTPUT = 1024 * 1024


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n // 1024} KiB"


def too_much_output(stream: str, limit: int = MAX_OUTPUT) -> SSHError:
    return SSHError(f"the node sent more than {_size(limit)} on {stream}: regui stopped reading there and "
                    "closed the session, keeping none of it")


_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux


class _PromptSocket(socket.socket):
    """TCP for SSH's small packets, which wait on each other: Nagle off (TCP_NODELAY, set at connect),
    and each read acknowledged at once (TCP_QUICKACK, which the kernel drops again by itself: hence on
    every read). Without them a node's exit status waited for the delayed ACK (~40 ms) of the output
    sent before it, and the handshake did several times: 46 -> 4 ms per exec, 59 -> 18 ms per connect
    against a harness node (see bench/rolling.py: a rolling restart pays them once per step)."""

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        if _QUICKACK is not None:
            with contextlib.suppress(OSError):
                self.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        return super().recv(bufsize, flags)


def _socket(address: str, port: int, timeout: float) -> socket.socket:
    try:
        plain = socket.create_connection((address, port), timeout=timeout)
    except TimeoutError:
        raise timed_out(address, port, timeout) from None
    except OSError as exc:
        raise cannot_connect(address, port, str(exc.strerror or exc)) from None
    sock = _PromptSocket(fileno=plain.detach())
    sock.settimeout(timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _start(address: str, port: int, timeout: float, key_types: list[str] | None,
           sock: socket.socket | paramiko.Channel | None = None,
           cls: type[paramiko.Transport] = paramiko.Transport) -> paramiko.Transport:
    sock = _socket(address, port, timeout) if sock is None else sock
    transport = cls(sock)
    transport.banner_timeout = timeout
    transport.handshake_timeout = timeout
    if key_types:
        transport.get_security_options().key_types = key_types
    try:
        transport.start_client(timeout=timeout)
    except (paramiko.SSHException, EOFError, OSError) as exc:
        transport.close()
        text = str(exc) or type(exc).__name__
        if "Incompatible" in text or "no acceptable host key" in text:
            raise key_type_refused(address, port) from None
        raise no_handshake(address, port, timeout, text) from None
    if not transport.is_active() or not transport.remote_version:
        # start_client can return when the transport thread gave up (a hung server), not only on success.
        transport.close()
        raise no_handshake(address, port, timeout, "no banner")
    return transport


def scan_host_key(address: str, port: int, timeout: float = 10) -> HostKey:
    """The key the node presents now (to show for approval; never trusted by itself)."""
    transport = _start(address, port, timeout, None)
    try:
        key = transport.get_remote_server_key()
        return HostKey(key.get_name(), key.get_base64())
    finally:
        transport.close()


def _authenticate(transport: paramiko.Transport, target: Target) -> None:
    try:
        if target.private_key:
            transport.auth_publickey(target.username, keys.private_key(target.private_key, target.passphrase))
        else:
            transport.auth_password(target.username, target.password)
    except paramiko.AuthenticationException:
        raise credentials_refused(target.username, target.address) from None
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise Unreachable(f"connection lost while logging in: {exc}") from None


def connect(target: Target, *, timeout: float = 10, retries: int = 3, backoff: float = 1.0) -> paramiko.Transport:
    """An authenticated transport; network errors are retried, key and login errors are not."""
    return login(handshake(target, timeout=timeout, retries=retries, backoff=backoff), target)


def login(transport: paramiko.Transport, target: Target) -> paramiko.Transport:
    """Log in on a transport from `handshake` (the credential goes to the node only now)."""
    try:
        _authenticate(transport, target)
    except SSHError:
        transport.close()
        raise
    return transport


def handshake(target: Target, *, timeout: float = 10, retries: int = 3, backoff: float = 1.0) -> paramiko.Transport:
    """A transport to the node presenting the pinned host key, not logged in: nothing of the credential
    has been sent. Network errors are retried, a key that differs is not."""
    if target.host_key is None:
        raise no_approved_key()
    if target.jump is not None:  # never straight to a node that is to be reached through a jump host
        raise ValueError("a target behind a jump host connects through regui.remote.jump")
    pinned = target.host_key
    attempt = 0
    while True:
        attempt += 1
        try:
            transport = _start(target.address, target.port, timeout, _ALGORITHMS.get(pinned.type, [pinned.type]))
            break
        except Unreachable:
            if attempt >= retries:
                raise
            time.sleep(backoff * 2 ** (attempt - 1))
    try:
        offered = transport.get_remote_server_key()
    except paramiko.SSHException:
        transport.close()
        raise Unreachable(f"the SSH session with {target.address}:{target.port} ended during the handshake") from None
    if offered.get_base64() != pinned.key:
        transport.close()
        raise key_changed(target.address, target.port, pinned,
                          HostKey(offered.get_name(), offered.get_base64()))
    return transport


@dataclass
class ExecResult:
    status: int
    stdout: str
    stderr: str


class _BoundedReader:
    """Reads one stream of a channel to its end, or until it passed `limit` bytes; then closes the
    channel, which ends the node's command and wakes the other stream's reader."""

    def __init__(self, channel: paramiko.Channel, recv: Callable[[int], bytes], limit: int,
                 on_data: Callable[[bytes], None] | None = None) -> None:
        self.channel, self.recv, self.limit, self.on_data = channel, recv, limit, on_data
        self.data = bytearray()
        self.over = False
        self.error: BaseException | None = None

    def read(self) -> None:
        try:
            while chunk := self.recv(32768):
                self.data += chunk
                if self.on_data is not None:
                    self.on_data(chunk)
                if len(self.data) > self.limit:
                    self.over = True
                    self.data.clear()
                    self.channel.close()
                    return
        except BaseException as exc:  # re-raised by `run`, in the caller's thread
            self.error = exc


def run(transport: paramiko.Transport, command: str, stdin: bytes = b"", timeout: float = 120,
        max_output: int = MAX_OUTPUT, on_output: Callable[[bytes], None] | None = None) -> ExecResult:
    """Run one command, feeding `stdin`; secrets travel on stdin, never in a command line.
    `on_output` sees standard output as it arrives (the caller learns where the command is).

    A watchdog closes the transport at the deadline: paramiko's writes can block forever on a dead
    link (it retries socket timeouts while sending), and closing is the one thing that unblocks them.
    Each of stdout and stderr is read up to `max_output` bytes: more is a failure (too_much_output)."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        transport.close()

    watchdog = threading.Timer(timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        channel = transport.open_session(timeout=timeout)
        channel.exec_command(command)
        if stdin:
            channel.sendall(stdin)
        channel.shutdown_write()
        # Both streams at once: the channel's window is shared, so a node flooding the stream nobody
        # reads would stall the other until the deadline instead of failing at the bound.
        out = _BoundedReader(channel, channel.recv, max_output, on_output)
        err = _BoundedReader(channel, channel.recv_stderr, max_output)
        err_thread = threading.Thread(target=err.read, daemon=True)
        err_thread.start()
        out.read()
        err_thread.join()
        for name, reader in (("standard output", out), ("standard error", err)):
            if reader.over:
                raise too_much_output(name, max_output)
        for reader in (out, err):
            if reader.error is not None:
                raise reader.error
        status = channel.recv_exit_status()
        channel.close()
        if expired.is_set():
            raise EOFError("deadline")
        if status == -1:  # the channel closed without an exit status: the connection went away
            raise EOFError("the connection closed before the command finished")
    except (paramiko.SSHException, EOFError, OSError) as exc:
        if expired.is_set():
            raise no_answer(timeout) from None
        raise connection_lost(str(exc) or type(exc).__name__) from None
    finally:
        watchdog.cancel()
    return ExecResult(status, bytes(out.data).decode(errors="replace"), bytes(err.data).decode(errors="replace"))


def as_root(target: Target, command: str) -> str:
    return f"sudo -n {command}" if target.use_sudo else command
