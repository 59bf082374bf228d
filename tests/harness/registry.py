"""A real Docker registry (Debian's ``docker-registry``, distribution 2.8) on 127.0.0.1.

``plain_registry()`` serves plain HTTP; ``tls_registry()`` serves HTTPS with a server certificate
from a throw-away CA made in the temporary directory, and requires htpasswd (bcrypt) basic auth.
Both listen on a free port chosen at run time, wait until ``/v2/`` answers, and stop the process
by its PID when the block ends (SIGTERM, then SIGKILL).

The registry writes its access log (gorilla's Apache *combined* format, enabled with
``log.accesslog.disabled: false``) to **stdout**, one line per finished request::

    127.0.0.1 - - [25/Nov/2026:08:26:53 +0000] "HEAD /v2/harness/tiny/manifests/v1?ns=x HTTP/1.1" 404 122 "" "curl/7.88.1"

Its own log (``level=info msg="response completed" http.request.method=... http.request.uri=...``)
goes to stderr; :meth:`Registry.access_log` reads the stdout file.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .oci import OCILayout

REGISTRY_BIN = "/usr/bin/docker-registry"
HOST = "127.0.0.1"

_ACCESS_LINE = re.compile(
    r'^(?P<remote>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<uri>\S+) (?P<proto>[^"]+)" '
    r'(?P<status>\d{3}) (?P<size>\S+)(?: "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")?'
)


@dataclass(frozen=True)
class AccessEntry:
    remote: str
    method: str
    uri: str  # path + query, exactly as requested
    status: int
    agent: str = ""

    @property
    def path(self) -> str:
        return self.uri.split("?", 1)[0]

    @property
    def is_manifest(self) -> bool:
        return "/manifests/" in self.path


def parse_access_log(text: str) -> list[AccessEntry]:
    """The combined-format lines of a registry's stdout; other lines are ignored."""
    out = []
    for line in text.splitlines():
        m = _ACCESS_LINE.match(line)
        if m:
            out.append(AccessEntry(m["remote"], m["method"], m["uri"], int(m["status"]), m["agent"] or ""))
    return out


def free_port(address: str = HOST) -> int:
    """A TCP port that is free on `address` (127.0.0.1) right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


@dataclass
class Registry:
    scheme: str
    port: int
    workdir: Path
    proc: subprocess.Popen | None = None
    ca_path: Path | None = None
    username: str | None = None
    password: str | None = None
    address: str = HOST  # where it listens: 127.0.0.1, or a harness bridge's address for nodes to reach
    config_path: Path = field(init=False)
    access_log_path: Path = field(init=False)  # stdout
    log_path: Path = field(init=False)  # stderr

    def __post_init__(self) -> None:
        self.config_path = self.workdir / "config.yml"
        self.access_log_path = self.workdir / "registry.stdout.log"
        self.log_path = self.workdir / "registry.stderr.log"

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` (the registries.yaml ``configs`` key and the ``ns`` of direct pulls)."""
        return f"{self.address}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def credentials(self) -> str | None:
        return f"{self.username}:{self.password}" if self.username else None

    # -- access log ---------------------------------------------------------------------------
    def access_log(self) -> list[AccessEntry]:
        try:
            return parse_access_log(self.access_log_path.read_text(errors="replace"))
        except FileNotFoundError:
            return []

    def mark(self) -> int:
        """A position in the access log; pass it to :meth:`entries_since`."""
        return len(self.access_log())

    def entries_since(self, mark: int, settle: float = 0.3) -> list[AccessEntry]:
        """Entries logged after ``mark``. Waits briefly until the log stops growing (lines are
        written when a response finishes, so the last one can trail the client by a moment)."""
        entries = self.access_log()
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            time.sleep(0.05)
            again = self.access_log()
            if len(again) != len(entries):
                entries, deadline = again, time.monotonic() + settle
        return entries[mark:]

    # -- plain HTTP client for probes (never goes through a proxy) ----------------------------
    def request(self, method: str, path: str, auth: bool = True, timeout: float = 5) -> tuple[int, bytes]:
        if self.scheme == "https":
            ctx = ssl.create_default_context(cafile=str(self.ca_path))
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(self.address, self.port, context=ctx,
                                                                           timeout=timeout)
        else:
            conn = http.client.HTTPConnection(self.address, self.port, timeout=timeout)
        headers = {}
        if auth and self.username:
            headers["Authorization"] = "Basic " + base64.b64encode(self.credentials.encode()).decode()
        try:
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    # -- pushing ------------------------------------------------------------------------------
    def push(self, layout: OCILayout, repository: str, tag: str | None = None,
             skopeo: str = "/usr/bin/skopeo") -> None:
        """``skopeo copy`` the OCI layout to ``<this registry>/<repository>:<tag>``."""
        tag = tag or layout.tag
        policy = self.workdir / "skopeo-policy.json"
        policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
        cmd = [skopeo, "--policy", str(policy), "copy", "--retry-times", "0"]
        if self.scheme == "https":
            certs = self.workdir / "skopeo-certs.d"
            certs.mkdir(exist_ok=True)
            shutil.copyfile(self.ca_path, certs / "ca.crt")
            cmd += ["--dest-cert-dir", str(certs)]
        else:
            cmd += ["--dest-tls-verify=false"]
        if self.credentials:
            cmd += ["--dest-creds", self.credentials]
        cmd += [layout.skopeo_ref, f"docker://{self.host}/{repository}:{tag}"]
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env["HOME"] = str(self.workdir)  # no auth files or caches in the real home
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"skopeo copy failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def describe(self) -> str:
        """Logs for assertion messages."""
        def tail(p: Path) -> str:
            try:
                return p.read_text(errors="replace")[-4000:]
            except FileNotFoundError:
                return "(none)"
        return f"--- {self.access_log_path.name}\n{tail(self.access_log_path)}\n--- {self.log_path.name}\n{tail(self.log_path)}"


# -- certificates -------------------------------------------------------------------------------
def make_ca_and_server_cert(directory: Path, cn: str = "registry.harness.test") -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for IP:127.0.0.1 signed by it.

    Returns ``(ca.crt, server.crt, server.key)`` inside ``directory``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=2)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "regui-harness-test-ca")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST)),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_path, crt_path, key_path = directory / "ca.crt", directory / "server.crt", directory / "server.key"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    crt_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return ca_path, crt_path, key_path


# -- process control ----------------------------------------------------------------------------
def stop_process(proc: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM the process by its PID, then SIGKILL if it does not exit in time."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        proc.wait(timeout=timeout)


def _wait_until_ready(reg: Registry, timeout: float) -> None:
    expected = 401 if reg.username else 200
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if reg.proc is not None and reg.proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {reg.proc.returncode}\n{reg.describe()}")
        try:
            status, _ = reg.request("GET", "/v2/", auth=False, timeout=2)
            if status == expected:
                return
            last = f"status {status}"
        except (OSError, http.client.HTTPException) as e:
            last = e
        time.sleep(0.1)
    raise RuntimeError(f"docker-registry on {reg.url} did not answer /v2/ in {timeout}s: {last}\n{reg.describe()}")


@contextmanager
def _run_registry(scheme: str, binary: str, tls: bool, auth: tuple[str, str] | None,
                  htpasswd_bin: str, startup_timeout: float, attempts: int = 3,
                  address: str = HOST) -> Iterator[Registry]:
    with tempfile.TemporaryDirectory(prefix=f"rg-reg-{scheme}-") as tmp:
        workdir = Path(tmp)
        ca = crt = key = None
        if tls:
            ca, crt, key = make_ca_and_server_cert(workdir / "tls")
        htpasswd_file = None
        if auth:
            htpasswd_file = workdir / "htpasswd"
            # bcrypt (-B) is the only hash docker-registry accepts
            subprocess.run([htpasswd_bin, "-Bbc", str(htpasswd_file), auth[0], auth[1]],
                           check=True, capture_output=True, timeout=30)
        reg: Registry | None = None
        try:
            for attempt in range(attempts):
                reg = Registry(scheme=scheme, port=free_port(address), workdir=workdir, ca_path=ca,
                               username=auth[0] if auth else None, password=auth[1] if auth else None,
                               address=address)
                http_cfg: dict = {"addr": reg.host, "secret": secrets.token_hex(16)}
                if tls:
                    http_cfg["tls"] = {"certificate": str(crt), "key": str(key)}
                config: dict = {
                    "version": 0.1,
                    "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
                    "storage": {"filesystem": {"rootdirectory": str(workdir / "data")},
                                "delete": {"enabled": True}},
                    "http": http_cfg,
                }
                if htpasswd_file:
                    config["auth"] = {"htpasswd": {"realm": "regui-harness", "path": str(htpasswd_file)}}
                reg.config_path.write_text(json.dumps(config, indent=2))  # JSON is YAML
                with open(reg.access_log_path, "w") as out, open(reg.log_path, "w") as err:
                    reg.proc = subprocess.Popen([binary, "serve", str(reg.config_path)], stdout=out, stderr=err,
                                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=workdir)
                try:
                    _wait_until_ready(reg, startup_timeout)
                    break
                except RuntimeError:
                    stop_process(reg.proc)
                    # the port can be taken between free_port() and bind(); try another one
                    if attempt == attempts - 1 or "address already in use" not in reg.describe():
                        raise
            yield reg
        finally:
            if reg is not None:
                stop_process(reg.proc)


@contextmanager
def plain_registry(binary: str = REGISTRY_BIN, startup_timeout: float = 20, address: str = HOST) -> Iterator[Registry]:
    """docker-registry over plain HTTP on 127.0.0.1:<free port>, no auth. `address`: listen there instead
    (a harness bridge's address, which its nodes reach; 127.0.0.1 in a node is the node's own)."""
    with _run_registry("http", binary, tls=False, auth=None, htpasswd_bin="", startup_timeout=startup_timeout,
                       address=address) as r:
        yield r


@contextmanager
def tls_registry(username: str = "harness-user", password: str | None = None, binary: str = REGISTRY_BIN,
                 htpasswd_bin: str = "/usr/bin/htpasswd", startup_timeout: float = 20) -> Iterator[Registry]:
    """docker-registry over HTTPS (throw-away CA, SAN IP:127.0.0.1) with htpasswd basic auth."""
    password = password or "pw-" + secrets.token_urlsafe(12)
    with _run_registry("https", binary, tls=True, auth=(username, password), htpasswd_bin=htpasswd_bin,
                       startup_timeout=startup_timeout) as r:
        yield r
