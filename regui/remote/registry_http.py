"""The bounded HTTP(S) client of the registry probe: resolve a name, connect, the TLS handshake with
the host's material, one request, each step said in words with its time. Pure Python (no Django).

Bounded: every request has a timeout (a watchdog closes a connection that drips), the client works
within a deadline, and at most `Limits.max_body` bytes of any answer are read. Whatever a server
says back is scrubbed of the values the caller hid (`Client.hide`) before it becomes a word.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .registry_tls import (
    TLSMaterial,
    certificate_info,
    closed_words,
    handshake_words,
    material_words,
    not_tls,
    peer_certificate,
    tls_context,
    trusted_words,
    verify_words,
)

OK, FAILED, WARNING, INFO = "ok", "failed", "warning", "info"  # a step's outcome
USER_AGENT = "regui-registry-test"


@dataclass(frozen=True)
class Limits:
    request_timeout: float = 10.0  # seconds, each DNS lookup, connection and request
    total: float = 60.0  # seconds, one probe_all
    max_body: int = 64 * 1024  # bytes read of any answer


@dataclass(frozen=True)
class Step:
    what: str  # dns, connect, tls, ping, auth, token, manifest, time
    outcome: str  # ok, failed, warning, info
    text: str
    ms: int | None = None


class Stop(Exception):
    """A step failed (and said so): this endpoint's probe ends."""


class Unreachable(Stop):
    """The TLS handshake found no TLS server (or timed out): containerd's HTTP fallback then tries
    the next root (http://), for a host it upgraded to https-then-http."""


@dataclass(frozen=True)
class URL:
    scheme: str
    host: str
    port: int
    netloc: str
    path: str  # with the query, if any

    @classmethod
    def parse(cls, url: str) -> URL:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, host, port, parts.netloc, path)

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    def with_path(self, path: str) -> URL:
        return URL(self.scheme, self.host, self.port, self.netloc, path)

    def __str__(self) -> str:
        return self.origin + self.path


@dataclass
class Response:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes
    ms: int

    def header(self, name: str) -> str:
        return self.headers.get(name, "") or ""


def ms_since(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


def printable(text: str, limit: int = 200) -> str:
    clean = "".join(c if c.isprintable() else " " for c in text).strip()
    return clean[:limit] + ("…" if len(clean) > limit else "")


Resolver = Callable[[str, int], list[tuple[int, Any]]]


def system_resolver(host: str, port: int) -> list[tuple[int, Any]]:
    return [(family, addr) for family, _, _, _, addr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


class Client:
    """Requests to one endpoint's hosts with its TLS material; `steps` says what each one saw (the
    DNS, connect and TLS steps once per origin)."""

    def __init__(self, tls: TLSMaterial, limits: Limits, deadline: float, resolver: Resolver) -> None:
        self.tls, self.limits, self.deadline, self.resolver = tls, limits, deadline, resolver
        self.steps: list[Step] = []
        self.reported: set[str] = set()  # origins whose DNS/connect/TLS steps were said already
        self._ctx: ssl.SSLContext | None = None
        self._hidden: set[str] = set()

    # -- bookkeeping --
    def hide(self, value: str) -> None:
        """A value no step, summary or scrubbed text may show (a secret, or a token got with one)."""
        if len(value) >= 4:
            self._hidden.add(value)

    def scrub(self, text: str) -> str:
        """Text a server chose (errors, headers) without anything secret it may have echoed."""
        for value in self._hidden:
            text = text.replace(value, "(hidden)")
        return text

    def step(self, what: str, outcome: str, text: str, ms: int | None = None) -> None:
        # A step is shown under its own label ("DNS"): a text that starts with it (as a failure's does,
        # to read alone as the report's summary) drops it there.
        label = f"{what}: "
        if text[: len(label)].lower() == label:
            text = text[len(label):]
        self.steps.append(Step(what, outcome, self.scrub(text), ms))

    def fail(self, what: str, text: str, ms: int | None = None, unreachable: bool = False) -> Stop:
        self.step(what, FAILED, text, ms)
        return Unreachable(text) if unreachable else Stop(text)

    def timeout(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.fail("time", "the test's time limit ran out before this step")
        return min(self.limits.request_timeout, left)

    # -- connection --
    def context(self) -> ssl.SSLContext:
        if self._ctx is None:
            tls = self.tls
            try:
                self._ctx = tls_context(tls)
            except (ssl.SSLError, ValueError, OSError) as e:
                raise self.fail("tls", f"TLS material cannot be used: {material_words(e, tls)}") from None
        return self._ctx

    def resolve(self, url: URL, report: bool) -> list[tuple[int, Any]]:
        try:
            ip = ipaddress.ip_address(url.host)
        except ValueError:
            pass
        else:
            return [(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, (url.host, url.port))]
        start, timeout = time.monotonic(), self.timeout()
        box: list[list[tuple[int, Any]] | OSError] = []

        def lookup() -> None:
            try:
                box.append(self.resolver(url.host, url.port))
            except OSError as e:
                box.append(e)

        worker = threading.Thread(target=lookup, name="regui-dns", daemon=True)
        worker.start()
        worker.join(timeout)
        if not box:
            raise self.fail("dns", f"DNS: no answer for {url.host} within {timeout:g} s", ms_since(start))
        found = box[0]
        if isinstance(found, OSError):
            raise self.fail("dns", f"DNS: {self._dns_words(url.host, found)}", ms_since(start))
        if not found:
            raise self.fail("dns", f"DNS: {url.host} has no address", ms_since(start))
        if report:
            addresses = list(dict.fromkeys(str(a[1][0]) for a in found))
            more = f" (and {len(addresses) - 3} more)" if len(addresses) > 3 else ""
            self.step("dns", OK, f"DNS: {url.host} is {', '.join(addresses[:3])}{more}", ms_since(start))
        return found

    @staticmethod
    def _dns_words(host: str, e: OSError) -> str:
        code = e.errno
        if code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return f"the name {host} does not exist ({e.strerror})"
        if code == socket.EAI_AGAIN:
            return f"no DNS server answered for {host} ({e.strerror}): a temporary failure"
        return f"{host} cannot be resolved ({e.strerror or e})"

    def connect(self, url: URL, report: bool) -> socket.socket:
        addresses = self.resolve(url, report)
        start, timeout = time.monotonic(), self.timeout()
        problem = ""
        for family, sockaddr in addresses[:4]:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            try:
                sock.connect(sockaddr)
            except OSError as e:
                sock.close()
                problem = self._connect_words(sockaddr, e, timeout)
                continue
            if report:
                self.step("connect", OK, f"connected to {self._where(sockaddr)}", ms_since(start))
            if url.scheme == "https":
                return self.handshake(sock, url, sockaddr, report)
            return sock
        raise self.fail("connect", problem, ms_since(start))

    @staticmethod
    def _where(sockaddr: Any) -> str:
        host = str(sockaddr[0])
        return f"[{host}]:{sockaddr[1]}" if ":" in host else f"{host}:{sockaddr[1]}"

    def _connect_words(self, sockaddr: Any, e: OSError, timeout: float) -> str:
        where = self._where(sockaddr)
        if isinstance(e, ConnectionRefusedError):
            return f"connection refused by {where}: nothing listens on that port (or a firewall rejects it)"
        if isinstance(e, TimeoutError):
            return f"no answer from {where} within {timeout:g} s (the host is down, or a firewall drops the packets)"
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return f"{where} is unreachable from the worker ({e.strerror})"
        return f"cannot connect to {where} ({e.strerror or e})"

    def handshake(self, sock: socket.socket, url: URL, sockaddr: Any, report: bool) -> ssl.SSLSocket:
        ctx = self.context()
        start = time.monotonic()
        try:
            tls = ctx.wrap_socket(sock, server_hostname=url.host)
        except ssl.SSLCertVerificationError as e:
            sock.close()
            timeout = min(self.limits.request_timeout, max(0.5, self.deadline - time.monotonic()))
            info = peer_certificate(sockaddr, url.host, timeout)
            raise self.fail("tls", verify_words(e, url.netloc, url.host, info, self.tls), ms_since(start)) from None
        except ssl.SSLError as e:
            sock.close()
            raise self.fail("tls", handshake_words(e, url.netloc, self.tls), ms_since(start), not_tls(e)) from None
        except TimeoutError:
            sock.close()
            raise self.fail("tls", f"TLS: no handshake answer from {url.netloc} within "
                            f"{sock.gettimeout() or 0:g} s", ms_since(start), True) from None
        except OSError as e:
            sock.close()
            raise self.fail("tls", f"TLS: the connection to {url.netloc} failed during the handshake "
                            f"({e.strerror or type(e).__name__})", ms_since(start)) from None
        if report:
            der = tls.getpeercert(binary_form=True)
            info = certificate_info(der) if der else None
            cert = info.words if info else "(no certificate)"
            if self.tls.skip_verify:
                how = "not verified: insecure_skip_verify is set"
            else:
                how = f"verified against {trusted_words(self.tls)}"
            client = f"; sent the client certificate of {self.tls.client_label}" \
                if self.tls.client_cert_pem else ""
            self.step("tls", OK, f"{tls.version()}: certificate {cert}; {how}{client}", ms_since(start))
        return tls

    # -- HTTP --
    def request(self, method: str, url: URL, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> Response:
        report = url.origin not in self.reported
        sock = self.connect(url, report)
        self.reported.add(url.origin)
        start, timeout = time.monotonic(), self.timeout()
        sock.settimeout(timeout)
        # A server that drips bytes could hold each read just under the timeout: this bounds the whole request.
        fired = threading.Event()
        watchdog = threading.Timer(timeout, _shut, [sock, fired])
        watchdog.daemon = True
        watchdog.start()
        conn = http.client.HTTPConnection(url.host, url.port, timeout=timeout)
        conn.sock = sock
        said = f"{method} {self.scrub(str(url))}"
        try:
            conn.request(method, url.path, body=body,
                         headers={"Host": url.netloc, "User-Agent": USER_AGENT, **(headers or {})})
            resp = conn.getresponse()
            data = b"" if method == "HEAD" else resp.read(self.limits.max_body)
            return Response(resp.status, resp.reason, resp.headers, data, ms_since(start))
        except (OSError, http.client.HTTPException) as e:
            if fired.is_set() or isinstance(e, TimeoutError):
                raise self.fail("http", f"{said}: no answer within {timeout:g} s", ms_since(start)) from None
            # TLS 1.3: a refused client certificate shows on the first read, after the handshake.
            if isinstance(e, ssl.SSLError):
                raise self.fail("tls", handshake_words(e, url.netloc, self.tls), ms_since(start)) from None
            if isinstance(e, ConnectionResetError) and url.scheme == "https":
                raise self.fail("tls", closed_words(url.netloc, self.tls), ms_since(start)) from None
            raise self.fail("http", f"{said}: the connection failed ({str(e) or type(e).__name__})",
                            ms_since(start)) from None
        finally:
            watchdog.cancel()
            conn.close()

    def errors(self, resp: Response) -> str:
        """The registry's own words for an error (its JSON `errors`), scrubbed and short."""
        try:
            doc = json.loads(resp.body)
        except ValueError:
            return ""
        errors = doc.get("errors") if isinstance(doc, dict) else None
        if not isinstance(errors, list):
            return ""
        words = [": ".join(str(e.get(k)) for k in ("code", "message") if e.get(k))
                 for e in errors[:3] if isinstance(e, dict)]
        return printable(self.scrub("; ".join(w for w in words if w)))

    def answer(self, resp: Response) -> str:
        errors = self.errors(resp)
        return f"{resp.status} {printable(resp.reason, 60)}" + (f" ({errors})" if errors else "")


def _shut(sock: socket.socket, fired: threading.Event) -> None:
    fired.set()
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
