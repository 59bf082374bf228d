"""A tiny registry for the fast tier: threads on 127.0.0.1, plain HTTP or TLS (optionally asking for a
client certificate), Basic or Bearer authentication with a small token service, manifests by path.

Only what a registry test asks: `GET /v2/`, `HEAD /v2/<repo>/manifests/<ref>`, and the token
service at `/token` (GET with Basic; an OAuth POST answers 404 unless `oauth=True`, like services
that only know GET, so containerd's fallback is exercised).
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import secrets
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DIGEST = "sha256:" + "ab" * 32


@dataclass
class CA:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str = "probe-test-ca") -> CA:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return CA(key, cert)


def issue(ca: CA, cn: str, *, ips: tuple[str, ...] = ("127.0.0.1",), dns: tuple[str, ...] = ("localhost",),
          expired: bool = False, client: bool = False) -> tuple[str, str]:
    """(certificate PEM, key PEM) signed by `ca`."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    start, end = (now - datetime.timedelta(days=3), now - datetime.timedelta(days=1)) if expired else \
        (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2))
    sans = [x509.IPAddress(ipaddress.ip_address(i)) for i in ips] + [x509.DNSName(d) for d in dns]
    builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if client
                                                     else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


@dataclass
class Seen:
    method: str
    path: str
    authorization: str  # "" | "Basic" | "Bearer": the scheme only
    body: str = ""


@dataclass
class FakeRegistry:
    """Behaviour of the server; `url` and `seen` once it runs."""

    auth: str = ""  # "" | "basic" | "bearer"
    username: str = "robot"
    password: str = "s3cret-Pa55"
    manifests: set[str] = field(default_factory=set)  # "repo:ref" present
    oauth: bool = False  # the token service takes containerd's OAuth POST too
    echo: bool = False  # errors repeat the Authorization header (a careless or hostile registry)
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    tokens: dict[str, set[str]] = field(default_factory=dict)  # token -> scopes it grants

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).netloc

    def basic_ok(self, header: str) -> bool:
        want = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return header == f"Basic {want}"


def _handler(reg: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            if isinstance(self.request, ssl.SSLSocket):
                self.request.settimeout(5)
                self.request.do_handshake()  # a failed handshake ends this connection only
            super().setup()

        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
            if reg.echo:
                message += " " + self.headers.get("Authorization", "")
            body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
            self._send(status, body, {"Content-Type": "application/json", **(headers or {})})

        def _record(self, body: str = "") -> None:
            scheme = (self.headers.get("Authorization") or "").split(" ")[0]
            reg.seen.append(Seen(self.command, self.path, scheme, body))

        def _allowed(self, scope: str) -> bool:
            header = self.headers.get("Authorization") or ""
            if reg.auth == "basic":
                ok = reg.basic_ok(header)
                if not ok:
                    self._error(401, "UNAUTHORIZED", "authentication required",
                                {"WWW-Authenticate": 'Basic realm="fake-registry"'})
                return ok
            if reg.auth == "bearer":
                granted = reg.tokens.get(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None
                if granted is not None and (not scope or scope in granted):
                    return True
                challenge = f'Bearer realm="{reg.url}/token",service="fake-registry"'
                if scope:
                    challenge += f',scope="{scope}"'
                self._error(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": challenge})
                return False
            return True

        def _token(self, form: dict[str, list[str]], authorized: bool) -> None:
            if not authorized:
                self._error(401, "UNAUTHORIZED", "bad credentials")
                return
            token = "tok-" + secrets.token_hex(8)
            reg.tokens[token] = set(" ".join(form.get("scope", [])).split())
            self._send(200, json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode(),
                       {"Content-Type": "application/json"})

        def do_GET(self) -> None:  # noqa: N802
            self._record()
            parts = urllib.parse.urlsplit(self.path)
            if parts.path == "/token":
                header = self.headers.get("Authorization") or ""
                self._token(urllib.parse.parse_qs(parts.query), not header or reg.basic_ok(header))
                return
            if parts.path == "/v2/":
                if self._allowed(""):
                    self._send(200, b"{}", {"Content-Type": "application/json",
                                            "Docker-Distribution-API-Version": "registry/2.0"})
                return
            self._error(404, "NOT_FOUND", "no such thing")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            self._record(body)
            if self.path != "/token" or not reg.oauth:
                self._send(404, b"404 page not found\n", {"Content-Type": "text/plain"})
                return
            form = urllib.parse.parse_qs(body)
            ok = form.get("username") == [reg.username] and form.get("password") == [reg.password]
            if ok:
                form = {"scope": form.get("scope", [""])}
            self._token(form, ok)

        def do_HEAD(self) -> None:  # noqa: N802
            self._record()
            path = urllib.parse.urlsplit(self.path).path
            if "/manifests/" not in path:
                self._send(404)
                return
            repo, ref = path.removeprefix("/v2/").split("/manifests/", 1)
            if not self._allowed(f"repository:{repo}:pull"):
                return
            if f"{repo}:{ref}" in reg.manifests:
                self._send(200, b"x" * 527, {"Content-Type": "application/vnd.oci.image.manifest.v1+json",
                                             "Docker-Content-Digest": DIGEST})
            else:
                self._error(404, "MANIFEST_UNKNOWN", "manifest unknown")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # refused handshakes are what some tests are about


@contextmanager
def serve(reg: FakeRegistry, *, cert: tuple[str, str] | None = None, client_ca: CA | None = None,
          workdir: Path | None = None) -> Iterator[FakeRegistry]:
    """Run `reg` on 127.0.0.1:<free port>; TLS with `cert` (PEM pair), client certificates from `client_ca`."""
    server = _Server(("127.0.0.1", 0), _handler(reg))
    server.daemon_threads = True
    scheme = "http"
    if cert is not None:
        assert workdir is not None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        crt, key = workdir / "server.crt", workdir / "server.key"
        crt.write_text(cert[0])
        key.write_text(cert[1])
        ctx.load_cert_chain(crt, key)
        if client_ca is not None:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(cadata=client_ca.pem)
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"
    reg.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield reg
    finally:
        server.shutdown()
        server.server_close()
