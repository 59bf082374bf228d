"""In-process SSH servers (paramiko) for the pure SSH layer: a node that answers a command (or floods its
output, Server.run), and a jump host that forwards `direct-tcpip` channels, both on 127.0.0.1. Nodes behind a jump host have names that do
not resolve (`*.invalid`): only the jump host knows where they are (`routes`), so a direct connection
fails as it does on a real private network."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import paramiko

from regui.remote import ssh


@dataclass
class Server:
    """One sshd. `forwarding`: channels it opens to other hosts (False: administratively prohibited,
    as with AllowTcpForwarding no). `routes`: where it connects for (name, port)."""

    password: str = "pw"
    forwarding: bool = True
    routes: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)  # users logged in (credential accepted)
    forwards: list[tuple[str, int]] = field(default_factory=list)  # channels opened to other hosts
    transports: list[paramiko.Transport] = field(default_factory=list)
    login_delay: float = 0.0  # seconds each login takes to be accepted (a busy sshd)
    global_requests: list[str] = field(default_factory=list)  # their kinds, as received
    global_request_delay: float = 0.0  # seconds before it answers one (a hung sshd)
    unauthenticated: int = 0  # connections accepted and not yet logged in, now (what MaxStartups counts)
    most_unauthenticated: int = 0  # ... the most at once so far
    sent: dict[str, int] = field(default_factory=lambda: {"out": 0, "err": 0})  # bytes `out N`, `err N` sent
    cut_off: threading.Event = field(default_factory=threading.Event)  # a command's channel closed under it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, channel: paramiko.Channel, command: str) -> None:
        """One command: `out N` / `err N` send N bytes on standard output / error (a node flooding it);
        any other answers `fine`. Then exit status 0, unless the client closed the channel first."""
        stream, _, size = command.partition(" ")
        try:
            # As `sh -s` does: stdin first, to its end. The client closes it only once the exec was
            # accepted, so nothing here can overtake the server's reply to the exec request.
            while channel.recv(32768):
                pass
            if stream in self.sent:
                send = channel.sendall_stderr if stream == "err" else channel.sendall
                left = int(size)
                while left:
                    chunk = min(left, 32768)
                    send(b"x" * chunk)  # blocks while the client's window is full: sshd's pace
                    self.sent[stream] += chunk
                    left -= chunk
            else:
                channel.sendall(b"fine\n")
            channel.send_exit_status(0)
            channel.close()
        except (OSError, EOFError):
            self.cut_off.set()  # the client closed the channel (or the connection) under the command

    def count_unauthenticated(self, change: int) -> None:
        with self.lock:
            self.unauthenticated += change
            self.most_unauthenticated = max(self.most_unauthenticated, self.unauthenticated)


class _Connection(paramiko.ServerInterface):
    """The server side of one client connection."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.upstreams: dict[int, socket.socket] = {}  # channel id -> where it was forwarded

    def check_auth_password(self, username: str, password: str) -> int:
        time.sleep(self.server.login_delay)
        if password != self.server.password:
            return paramiko.AUTH_FAILED
        self.server.logins.append(username)
        self.authenticated()
        return paramiko.AUTH_SUCCESSFUL

    counted = True  # among the server's unauthenticated connections

    def authenticated(self) -> None:
        """No longer unauthenticated: logged in, or gone."""
        if self.counted:
            self.counted = False
            self.server.count_unauthenticated(-1)

    def check_global_request(self, kind: str, msg: paramiko.Message) -> bool:
        self.server.global_requests.append(kind)
        time.sleep(self.server.global_request_delay)
        return False  # refused, as OpenSSH refuses a keepalive

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_UNKNOWN_CHANNEL_TYPE

    def check_channel_direct_tcpip_request(self, chanid: int, origin: tuple[str, int],
                                           destination: tuple[str, int]) -> int:
        if not self.server.forwarding:
            return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        where = self.server.routes.get((destination[0], int(destination[1])))
        if where is None:
            return paramiko.OPEN_FAILED_CONNECT_FAILED
        try:
            upstream = socket.create_connection(where, timeout=5)
        except OSError:
            return paramiko.OPEN_FAILED_CONNECT_FAILED
        # The 5 s was for connecting: left on the socket, a node quiet for 5 s on a loaded machine
        # would have its channel closed by the pump's timed-out recv (as no sshd does).
        upstream.settimeout(None)
        self.server.forwards.append((destination[0], int(destination[1])))
        self.upstreams[chanid] = upstream
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        threading.Thread(target=self.server.run, args=(channel, command.decode()), daemon=True).start()
        return True

    def relay(self, transport: paramiko.Transport) -> None:
        """Pump each accepted direct-tcpip channel to the socket opened for it; keep each session open."""
        # paramiko holds a transport's channels weakly and closes one when it is collected: a session no
        # longer referenced here (the next accept() rebinds `channel`, 0.2 s later) would be closed before
        # its exec request arrived on a loaded machine. sshd keeps a session until the client closes it.
        sessions: list[paramiko.Channel] = []
        while transport.is_active():
            channel = transport.accept(0.2)
            upstream = self.upstreams.pop(channel.get_id(), None) if channel is not None else None
            if channel is None:
                continue
            if upstream is None:
                sessions.append(channel)  # (its exec request runs it)
                continue
            for src, dst in ((channel, upstream), (upstream, channel)):
                threading.Thread(target=_pump, args=(src, dst), daemon=True).start()


def _pump(src: socket.socket | paramiko.Channel, dst: socket.socket | paramiko.Channel) -> None:
    with contextlib.suppress(OSError, EOFError):
        while data := src.recv(32768):
            dst.sendall(data)
    with contextlib.suppress(OSError, EOFError):
        dst.close()


@dataclass
class Listening:
    server: Server
    host_key: paramiko.PKey
    port: int

    @property
    def pinned(self) -> ssh.HostKey:
        return ssh.HostKey(self.host_key.get_name(), self.host_key.get_base64())

    def target(self, user: str = "root") -> ssh.Target:
        """How a client reaches it directly, with its pinned key and password."""
        return ssh.Target("127.0.0.1", self.port, user, self.pinned, password=self.server.password)

    def active(self) -> int:
        """Connections open to it now."""
        return sum(t.is_active() for t in self.server.transports)


@contextmanager
def sshd(server: Server | None = None) -> Iterator[Listening]:
    server = server or Server()
    host_key = paramiko.ECDSAKey.generate()
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            t = paramiko.Transport(sock)
            t.add_server_key(host_key)
            server.transports.append(t)
            server.count_unauthenticated(+1)
            # Handshakes in parallel, as sshd does: one slow client does not hold up the others.
            threading.Thread(target=handle, args=(t, _Connection(server)), daemon=True).start()

    def handle(t: paramiko.Transport, connection: _Connection) -> None:
        try:
            # A client that went away during the handshake (its test failed already) is no error here.
            with contextlib.suppress(paramiko.SSHException, EOFError, OSError):
                t.start_server(server=connection)
                connection.relay(t)
        finally:
            connection.authenticated()  # (gone without logging in)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield Listening(server, host_key, listener.getsockname()[1])
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accept(): a bare close leaves the port open
        listener.close()
        for t in server.transports:
            t.close()
