"""Reach a registry endpoint the way containerd does, and say what happened at each step, in words.

Pure Python (no Django). One probe per endpoint: resolve the name, connect, the TLS handshake with
the host's material (extra CAs added to the system ones as containerd does, a client certificate,
skip_verify), `GET <root>/`, the `WWW-Authenticate` challenge followed (Basic, or Bearer through the
token service: containerd's OAuth POST with credentials, then GET), and optionally `HEAD` of an
image's manifest. Each step says what it saw and how long it took; no word carries a secret, a
token or anything derived from one (text a registry sends back is scrubbed of them too).

Bounded: every request has a timeout (a watchdog closes a connection that drips), a probe run has a
total deadline, and at most `Limits.max_body` bytes of any answer are read.
"""

from __future__ import annotations

import base64
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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .challenges import Challenge, parse_challenges
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

OK, FAILED, WARNING, INFO = "ok", "failed", "warning", "info"
MISSING, SKIPPED = "missing", "skipped"  # a report's outcome: answers but lacks the image / not tried
USER_AGENT = "regui-registry-test"
MANIFEST_ACCEPT = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "*/*",
))
CLIENT_ID = "containerd-client"  # what containerd sends as the OAuth client_id


@dataclass(frozen=True)
class Limits:
    request_timeout: float = 10.0  # seconds, each DNS lookup, connection and request
    total: float = 60.0  # seconds, one probe_all
    max_body: int = 64 * 1024  # bytes read of any answer


@dataclass(frozen=True)
class Credentials:
    """What containerd's CRI makes of a `configs.<host>.auth` block (`ParseAuth`): a username and a
    secret, the password or, with no username, the identity token."""

    username: str
    secret: str = field(repr=False)
    label: str = ""  # names them without their value, e.g. 'configs["h"] (secret robot, user bot)'


@dataclass(frozen=True)
class Target:
    """One endpoint of a pull, with what the configuration gives its host."""

    label: str  # e.g. "mirror 1 of docker.io"
    roots: tuple[str, ...]  # the API root(s) tried in order, e.g. ("https://m:5000/v2",)
    manifest: str = ""  # path?query of the image's manifest on this endpoint; "" checks no image
    repository: str = ""  # the repository in that path (the token scope)
    credentials: Credentials | None = None
    tls: TLSMaterial = TLSMaterial()


@dataclass(frozen=True)
class Step:
    what: str  # dns, connect, tls, ping, auth, token, manifest, time
    outcome: str  # ok, failed, warning, info
    text: str
    ms: int | None = None


@dataclass
class Report:
    label: str
    url: str  # the root tried (the last one, when containerd falls back from https to http)
    outcome: str  # ok, missing, failed, skipped
    summary: str
    steps: list[Step] = field(default_factory=list)
    ms: int = 0
    digest: str = ""  # of the manifest found (the registry's Docker-Content-Digest)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- the probe -----------------------------------------------------------------------------------
class _Stop(Exception):
    """A step failed (and said so): this endpoint's probe ends."""


class _Unreachable(_Stop):
    """The TLS handshake found no TLS server (or timed out): containerd's HTTP fallback then tries
    the next root (http://), for a host it upgraded to https-then-http."""


@dataclass(frozen=True)
class _URL:
    scheme: str
    host: str
    port: int
    netloc: str
    path: str  # with the query, if any

    @classmethod
    def parse(cls, url: str) -> _URL:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, host, port, parts.netloc, path)

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    def with_path(self, path: str) -> _URL:
        return _URL(self.scheme, self.host, self.port, self.netloc, path)

    def __str__(self) -> str:
        return self.origin + self.path


@dataclass
class _Response:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes
    ms: int

    def header(self, name: str) -> str:
        return self.headers.get(name, "") or ""


def _ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)


def _printable(text: str, limit: int = 200) -> str:
    clean = "".join(c if c.isprintable() else " " for c in text).strip()
    return clean[:limit] + ("…" if len(clean) > limit else "")


Resolver = Callable[[str, int], list[tuple[int, Any]]]


def _getaddrinfo(host: str, port: int) -> list[tuple[int, Any]]:
    return [(family, addr) for family, _, _, _, addr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


class _Probe:
    def __init__(self, target: Target, limits: Limits, deadline: float, resolver: Resolver) -> None:
        self.target, self.limits, self.deadline, self.resolver = target, limits, deadline, resolver
        self.steps: list[Step] = []
        self.reported: set[str] = set()  # origins whose DNS/connect/TLS steps were said already
        self.authorization = ""  # never leaves this object
        self.digest = ""  # of the manifest, once found
        self._ctx: ssl.SSLContext | None = None
        self._hidden: set[str] = set()
        creds = target.credentials
        if creds is not None:
            self._hide(creds.secret)
            self._hide(base64.b64encode(f"{creds.username}:{creds.secret}".encode()).decode())

    # -- bookkeeping --
    def _hide(self, value: str) -> None:
        if len(value) >= 4:
            self._hidden.add(value)

    def scrub(self, text: str) -> str:
        """Text a server chose (errors, headers) without anything secret it may have echoed."""
        for value in self._hidden:
            text = text.replace(value, "(hidden)")
        return text

    def step(self, what: str, outcome: str, text: str, ms: int | None = None) -> None:
        self.steps.append(Step(what, outcome, self.scrub(text), ms))

    def fail(self, what: str, text: str, ms: int | None = None, unreachable: bool = False) -> _Stop:
        self.step(what, FAILED, text, ms)
        return _Unreachable(text) if unreachable else _Stop(text)

    def timeout(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.fail("time", "the test's time limit ran out before this step")
        return min(self.limits.request_timeout, left)

    # -- connection --
    def context(self) -> ssl.SSLContext:
        if self._ctx is None:
            tls = self.target.tls
            try:
                self._ctx = tls_context(tls)
            except (ssl.SSLError, ValueError, OSError) as e:
                raise self.fail("tls", f"TLS material cannot be used: {material_words(e, tls)}") from None
        return self._ctx

    def resolve(self, url: _URL, report: bool) -> list[tuple[int, Any]]:
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
            raise self.fail("dns", f"DNS: no answer for {url.host} within {timeout:g} s", _ms(start))
        found = box[0]
        if isinstance(found, OSError):
            raise self.fail("dns", f"DNS: {self._dns_words(url.host, found)}", _ms(start))
        if not found:
            raise self.fail("dns", f"DNS: {url.host} has no address", _ms(start))
        if report:
            addresses = list(dict.fromkeys(str(a[1][0]) for a in found))
            more = f" (and {len(addresses) - 3} more)" if len(addresses) > 3 else ""
            self.step("dns", OK, f"DNS: {url.host} is {', '.join(addresses[:3])}{more}", _ms(start))
        return found

    @staticmethod
    def _dns_words(host: str, e: OSError) -> str:
        code = e.errno
        if code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return f"the name {host} does not exist ({e.strerror})"
        if code == socket.EAI_AGAIN:
            return f"no DNS server answered for {host} ({e.strerror}): a temporary failure"
        return f"{host} cannot be resolved ({e.strerror or e})"

    def connect(self, url: _URL, report: bool) -> socket.socket:
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
                self.step("connect", OK, f"connected to {self._where(sockaddr)}", _ms(start))
            if url.scheme == "https":
                return self.handshake(sock, url, sockaddr, report)
            return sock
        raise self.fail("connect", problem, _ms(start))

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

    def handshake(self, sock: socket.socket, url: _URL, sockaddr: Any, report: bool) -> ssl.SSLSocket:
        ctx = self.context()
        start = time.monotonic()
        try:
            tls = ctx.wrap_socket(sock, server_hostname=url.host)
        except ssl.SSLCertVerificationError as e:
            sock.close()
            timeout = min(self.limits.request_timeout, max(0.5, self.deadline - time.monotonic()))
            info = peer_certificate(sockaddr, url.host, timeout)
            raise self.fail("tls", verify_words(e, url.netloc, url.host, info, self.target.tls), _ms(start)) from None
        except ssl.SSLError as e:
            sock.close()
            raise self.fail("tls", handshake_words(e, url.netloc, self.target.tls), _ms(start), not_tls(e)) from None
        except TimeoutError:
            sock.close()
            raise self.fail("tls", f"TLS: no handshake answer from {url.netloc} within "
                            f"{sock.gettimeout() or 0:g} s", _ms(start), True) from None
        except OSError as e:
            sock.close()
            raise self.fail("tls", f"TLS: the connection to {url.netloc} failed during the handshake "
                            f"({e.strerror or type(e).__name__})", _ms(start)) from None
        if report:
            der = tls.getpeercert(binary_form=True)
            info = certificate_info(der) if der else None
            cert = info.words if info else "(no certificate)"
            if self.target.tls.skip_verify:
                how = "not verified: insecure_skip_verify is set"
            else:
                how = f"verified against {trusted_words(self.target.tls)}"
            client = f"; sent the client certificate of {self.target.tls.client_label}" \
                if self.target.tls.client_cert_pem else ""
            self.step("tls", OK, f"{tls.version()}: certificate {cert}; {how}{client}", _ms(start))
        return tls

    # -- HTTP --
    def request(self, method: str, url: _URL, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> _Response:
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
            return _Response(resp.status, resp.reason, resp.headers, data, _ms(start))
        except (OSError, http.client.HTTPException) as e:
            if fired.is_set() or isinstance(e, TimeoutError):
                raise self.fail("http", f"{said}: no answer within {timeout:g} s", _ms(start)) from None
            # TLS 1.3: a refused client certificate shows on the first read, after the handshake.
            if isinstance(e, ssl.SSLError):
                raise self.fail("tls", handshake_words(e, url.netloc, self.target.tls), _ms(start)) from None
            if isinstance(e, ConnectionResetError) and url.scheme == "https":
                raise self.fail("tls", closed_words(url.netloc, self.target.tls), _ms(start)) from None
            raise self.fail("http", f"{said}: the connection failed ({str(e) or type(e).__name__})",
                            _ms(start)) from None
        finally:
            watchdog.cancel()
            conn.close()

    def errors(self, resp: _Response) -> str:
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
        return _printable(self.scrub("; ".join(w for w in words if w)))

    def answer(self, resp: _Response) -> str:
        errors = self.errors(resp)
        return f"{resp.status} {_printable(resp.reason, 60)}" + (f" ({errors})" if errors else "")

    # -- authentication --
    def authorize(self, resp: _Response, url: _URL, scopes: Sequence[str]) -> str:
        """The Authorization header containerd sends after this 401, or _Stop with why there is none."""
        challenges = parse_challenges(resp.headers.get_all("WWW-Authenticate") or [])
        creds = self.target.credentials
        for c in challenges:
            if c.scheme == "bearer":
                return "Bearer " + self.token(c, scopes)
        for c in challenges:
            if c.scheme == "basic":
                realm = f' (realm "{_printable(c.params.get("realm", ""), 80)}")' if c.params.get("realm") else ""
                if creds is None:
                    raise self.fail("auth", f"{url.netloc} asks for Basic credentials{realm}, and none are "
                                    "configured for this host: a pull is refused (401)")
                if not creds.username or not creds.secret:
                    raise self.fail("auth", f"{url.netloc} asks for Basic credentials{realm}, and {creds.label} "
                                    "has no username and password (containerd: no basic auth credentials)")
                self.step("auth", INFO, f"Basic authentication{realm}: sending the credentials of {creds.label}")
                return "Basic " + base64.b64encode(f"{creds.username}:{creds.secret}".encode()).decode()
        said = _printable(self.scrub(", ".join(resp.headers.get_all("WWW-Authenticate") or [])), 120)
        raise self.fail("auth", f"{url.netloc} answered 401 without a challenge containerd can follow"
                        + (f" (WWW-Authenticate: {said})" if said else " (no WWW-Authenticate header)"))

    def token(self, c: Challenge, scopes: Sequence[str]) -> str:
        realm = c.params.get("realm", "")
        try:
            realm_url = _URL.parse(realm)
        except ValueError:
            realm_url = None
        if realm_url is None or realm_url.scheme not in ("https", "http") or not realm_url.host:
            said = _printable(self.scrub(realm), 120)
            raise self.fail("token", f"the Bearer challenge names no usable token service (realm {said!r})")
        service = c.params.get("service", "")
        scope = sorted({*filter(None, c.params.get("scope", "").split(" ")), *scopes})
        creds = self.target.credentials
        where = _printable(realm_url.origin + realm_url.path.split("?", 1)[0], 120)
        about = ", ".join(filter(None, [f'service "{_printable(service, 60)}"' if service else "",
                                        f"scope {' '.join(scope)}" if scope else ""]))
        if creds is not None and creds.secret:
            form = {"grant_type": "password" if creds.username else "refresh_token", "service": service,
                    "client_id": CLIENT_ID, "scope": " ".join(scope)}
            if creds.username:
                form.update(username=creds.username, password=creds.secret)
            else:
                form["refresh_token"] = creds.secret
            resp = self.request("POST", realm_url, {"Content-Type": "application/x-www-form-urlencoded"},
                                urllib.parse.urlencode(form).encode())
            if resp.status == 200:
                return self._token_from(resp, f"token service {where} (OAuth POST, credentials of {creds.label}"
                                              + (f", {about}" if about else "") + ")", "access_token")
            if not (resp.status in (400, 401, 404) or (resp.status == 405 and creds.username)):
                raise self.fail("token", f"the token service {where} answered the OAuth POST with "
                                f"{self.answer(resp)}", resp.ms)
            self.step("token", INFO, f"the token service {where} answered the OAuth POST with {resp.status}: "
                      "containerd asks again with GET", resp.ms)
        query = urllib.parse.urlencode([*([("service", service)] if service else []),
                                        *(("scope", s) for s in scope)])
        sep = "&" if "?" in realm_url.path else "?"
        get_url = realm_url.with_path(realm_url.path + (sep + query if query else ""))
        headers = {}
        if creds is not None and creds.secret:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{creds.username}:{creds.secret}".encode()).decode()
        resp = self.request("GET", get_url, headers)
        who = f"the credentials of {creds.label}" if creds is not None and creds.secret else "no credentials"
        if resp.status == 200:
            return self._token_from(resp, f"token service {where} (GET, {who}" + (f", {about}" if about else "") + ")",
                                    "token")
        if resp.status in (401, 403):
            if creds is not None and creds.secret:
                raise self.fail("token", f"the token service {where} rejected the credentials of {creds.label}: "
                                f"{self.answer(resp)}", resp.ms)
            raise self.fail("token", f"the token service {where} refused an anonymous token ({self.answer(resp)}): "
                            "this registry needs credentials, and none are configured for this host", resp.ms)
        raise self.fail("token", f"the token service {where} answered {self.answer(resp)}", resp.ms)

    def _token_from(self, resp: _Response, words: str, first: str) -> str:
        try:
            doc = json.loads(resp.body)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise self.fail("token", f"the {words} answered 200 without a JSON token", resp.ms)
        value = doc.get(first) or doc.get("access_token") or doc.get("token")
        if not isinstance(value, str) or not value:
            raise self.fail("token", f"the {words} answered 200 without a token", resp.ms)
        self._hide(value)
        for other in ("refresh_token", "token", "access_token"):
            if isinstance(doc.get(other), str):
                self._hide(doc[other])
        expires = doc.get("expires_in")
        life = f", valid {int(expires)} s" if isinstance(expires, (int, float)) and expires > 0 else ""
        self.step("token", OK, f"got a token from the {words}{life}", resp.ms)
        return value

    # -- the endpoint --
    def run(self, root: _URL) -> tuple[str, str]:
        """(outcome, summary) of one root; raises _Stop after saying why it failed."""
        ping = root.with_path(root.path.rstrip("/") + "/")
        resp = self.request("GET", ping)
        if resp.status == 401:
            self.step("ping", INFO, f"GET {ping.path}: 401, authentication needed"
                      + (f" ({self.errors(resp)})" if self.errors(resp) else ""), resp.ms)
            self.authorization = self.authorize(resp, ping, [])
            resp = self.request("GET", ping, {"Authorization": self.authorization})
            if resp.status in (401, 403):
                creds = self.target.credentials
                if self.authorization.startswith("Basic") and creds is not None:
                    raise self.fail("auth", f"GET {ping.path}: the registry rejected the credentials of "
                                    f"{creds.label}: {self.answer(resp)}", resp.ms)
                raise self.fail("auth", f"GET {ping.path}: the registry refused the token: {self.answer(resp)}",
                                resp.ms)
        if resp.status != 200:
            hint = " (no registry API at this path)" if resp.status == 404 else ""
            raise self.fail("ping", f"GET {ping.path}: {self.answer(resp)}{hint}", resp.ms)
        version = _printable(resp.header("Docker-Distribution-API-Version"), 60)
        said = f"a registry ({version})" if version else \
            "but no Docker-Distribution-API-Version header: it may not be a registry"
        self.step("ping", OK if version else WARNING, f"GET {ping.path}: 200 OK, {said}"
                  + (" with the credentials" if self.authorization else ""), resp.ms)
        if not self.target.manifest:
            return OK, f"{root} answers{' and accepts the credentials' if self.authorization else ''} (no image checked)"
        return self.manifest(root)

    def manifest(self, root: _URL) -> tuple[str, str]:
        url = root.with_path(self.target.manifest)
        headers = {"Accept": MANIFEST_ACCEPT}
        if self.authorization:
            headers["Authorization"] = self.authorization
        resp = self.request("HEAD", url, headers)
        if resp.status == 401:
            self.step("manifest", INFO, f"HEAD {url.path}: 401, authentication needed for "
                      f"{self.target.repository}", resp.ms)
            headers["Authorization"] = self.authorize(resp, url, [f"repository:{self.target.repository}:pull"])
            resp = self.request("HEAD", url, headers)
        if resp.status == 200:
            digest = _printable(resp.header("Docker-Content-Digest"), 100) or "no digest header"
            self.digest = _printable(resp.header("Docker-Content-Digest"), 100)
            kind = _printable(resp.header("Content-Type"), 80) or "no content type"
            size = resp.header("Content-Length")
            text = f"HEAD {url.path}: 200, the manifest is there ({digest}, {kind}{f', {size} bytes' if size else ''})"
            self.step("manifest", OK, text, resp.ms)
            return OK, f"{root} answers and has the image ({digest})"
        if resp.status == 404:
            self.step("manifest", FAILED, f"HEAD {url.path}: 404, this endpoint does not have "
                      f"{self.target.repository} at that reference: containerd tries the next endpoint", resp.ms)
            return MISSING, f"{root} answers, but does not have the image (404)"
        if resp.status in (301, 302, 303, 307, 308):
            try:
                where = _printable(_URL.parse(urllib.parse.urljoin(str(url), resp.header("Location"))).origin, 120)
            except ValueError:
                where = "an unusable address"
            raise self.fail("manifest", f"HEAD {url.path}: {resp.status}, redirected to {where}; containerd "
                            "follows redirects, this test does not", resp.ms)
        creds = self.target.credentials
        if resp.status in (401, 403):
            who = f"the credentials of {creds.label} may not pull" if creds is not None and \
                headers.get("Authorization", "").startswith("Basic") else "the registry refuses a pull of"
            raise self.fail("manifest", f"HEAD {url.path}: {resp.status}, {who} {self.target.repository}", resp.ms)
        raise self.fail("manifest", f"HEAD {url.path}: {self.answer(resp)}", resp.ms)


def _shut(sock: socket.socket, fired: threading.Event) -> None:
    fired.set()
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def probe(target: Target, limits: Limits = Limits(), deadline: float | None = None,
          resolver: Resolver = _getaddrinfo) -> Report:
    """Every step of reaching one endpoint, in words. Never raises for anything the network does."""
    start = time.monotonic()
    deadline = deadline if deadline is not None else start + limits.total
    p = _Probe(target, limits, deadline, resolver)
    outcome, summary, tried = FAILED, "no API root to try", ""
    if any(root.startswith("https:") for root in target.roots):
        try:
            p.context()  # unusable TLS material is said before anything connects
        except _Stop as e:
            return Report(target.label, target.roots[0], FAILED, str(e), p.steps, _ms(start))
    for i, root in enumerate(target.roots):
        tried = root
        try:
            outcome, summary = p.run(_URL.parse(root))
            break
        except _Unreachable as e:
            outcome, summary = FAILED, str(e)
            if i + 1 < len(target.roots):
                p.step("note", INFO, f"containerd then tries {target.roots[i + 1]}")
        except _Stop as e:
            outcome, summary = FAILED, str(e)
            break
    return Report(target.label, tried, outcome, p.scrub(summary), p.steps, _ms(start), p.digest)


def probe_all(targets: Sequence[Target], limits: Limits = Limits(), resolver: Resolver = _getaddrinfo) -> list[Report]:
    """The endpoints in pull order, within one total deadline; those past it are skipped, not tried."""
    deadline = time.monotonic() + limits.total
    reports = []
    for t in targets:
        if time.monotonic() >= deadline:
            reports.append(Report(t.label, t.roots[0] if t.roots else "", SKIPPED,
                                  f"not tried: the test's time limit of {limits.total:g} s ran out"))
            continue
        reports.append(probe(t, limits, deadline, resolver))
    return reports
