"""Reach a registry endpoint the way containerd does, and say what happened at each step, in words.

Pure Python (no Django). One probe per endpoint: resolve the name, connect, the TLS handshake with
the host's material (extra CAs added to the system ones as containerd does, a client certificate,
skip_verify), `GET <root>/`, the `WWW-Authenticate` challenge followed (Basic, or Bearer through the
token service: containerd's OAuth POST with credentials, then GET), and optionally `HEAD` of an
image's manifest. Each step says what it saw and how long it took; no word carries a secret, a
token or anything derived from one (text a registry sends back is scrubbed of them too).

Bounded: every request has a timeout (a watchdog closes a connection that drips), a probe run has a
total deadline, and at most `Limits.max_body` bytes of any answer are read (the client in
registry_http.py; this module is the probe's steps and their words).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .challenges import Challenge, parse_challenges
from .registry_http import (
    FAILED,
    INFO,
    OK,
    URL,
    WARNING,
    Client,
    Limits,
    Resolver,
    Response,
    Step,
    Stop,
    Unreachable,
    ms_since,
    printable,
    system_resolver,
)
from .registry_tls import TLSMaterial

MISSING, SKIPPED = "missing", "skipped"  # a report's outcome: answers but lacks the image / not tried
MANIFEST_ACCEPT = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "*/*",
))
CLIENT_ID = "containerd-client"  # what containerd sends as the OAuth client_id
DEFAULT_LIMITS = Limits()


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
class _Probe(Client):
    def __init__(self, target: Target, limits: Limits, deadline: float, resolver: Resolver) -> None:
        super().__init__(target.tls, limits, deadline, resolver)
        self.target = target
        self.authorization = ""  # never leaves this object
        self.digest = ""  # of the manifest, once found
        creds = target.credentials
        if creds is not None:
            self.hide(creds.secret)
            self.hide(base64.b64encode(f"{creds.username}:{creds.secret}".encode()).decode())

    # -- authentication --
    def authorize(self, resp: Response, url: URL, scopes: Sequence[str]) -> str:
        """The Authorization header containerd sends after this 401, or Stop with why there is none."""
        challenges = parse_challenges(resp.headers.get_all("WWW-Authenticate") or [])
        creds = self.target.credentials
        for c in challenges:
            if c.scheme == "bearer":
                return "Bearer " + self.token(c, scopes)
        for c in challenges:
            if c.scheme == "basic":
                realm = f' (realm "{printable(c.params.get("realm", ""), 80)}")' if c.params.get("realm") else ""
                if creds is None:
                    raise self.fail("auth", f"{url.netloc} asks for Basic credentials{realm}, and none are "
                                    "configured for this host: a pull is refused (401)")
                if not creds.username or not creds.secret:
                    raise self.fail("auth", f"{url.netloc} asks for Basic credentials{realm}, and {creds.label} "
                                    "has no username and password (containerd: no basic auth credentials)")
                self.step("auth", INFO, f"Basic authentication{realm}: sending the credentials of {creds.label}")
                return "Basic " + base64.b64encode(f"{creds.username}:{creds.secret}".encode()).decode()
        said = printable(self.scrub(", ".join(resp.headers.get_all("WWW-Authenticate") or [])), 120)
        raise self.fail("auth", f"{url.netloc} answered 401 without a challenge containerd can follow"
                        + (f" (WWW-Authenticate: {said})" if said else " (no WWW-Authenticate header)"))

    def token(self, c: Challenge, scopes: Sequence[str]) -> str:
        realm = c.params.get("realm", "")
        try:
            realm_url = URL.parse(realm)
        except ValueError:
            realm_url = None
        if realm_url is None or realm_url.scheme not in ("https", "http") or not realm_url.host:
            said = printable(self.scrub(realm), 120)
            raise self.fail("token", f"the Bearer challenge names no usable token service (realm {said!r})")
        service = c.params.get("service", "")
        scope = sorted({*filter(None, c.params.get("scope", "").split(" ")), *scopes})
        creds = self.target.credentials
        where = printable(realm_url.origin + realm_url.path.split("?", 1)[0], 120)
        about = ", ".join(filter(None, [f'service "{printable(service, 60)}"' if service else "",
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

    def _token_from(self, resp: Response, words: str, first: str) -> str:
        try:
            doc = json.loads(resp.body)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise self.fail("token", f"the {words} answered 200 without a JSON token", resp.ms)
        value = doc.get(first) or doc.get("access_token") or doc.get("token")
        if not isinstance(value, str) or not value:
            raise self.fail("token", f"the {words} answered 200 without a token", resp.ms)
        self.hide(value)
        for other in ("refresh_token", "token", "access_token"):
            if isinstance(doc.get(other), str):
                self.hide(doc[other])
        expires = doc.get("expires_in")
        life = f", valid {int(expires)} s" if isinstance(expires, (int, float)) and expires > 0 else ""
        self.step("token", OK, f"got a token from the {words}{life}", resp.ms)
        return value

    # -- the endpoint --
    def run(self, root: URL) -> tuple[str, str]:
        """(outcome, summary) of one root; raises Stop after saying why it failed."""
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
        version = printable(resp.header("Docker-Distribution-API-Version"), 60)
        said = f"a registry ({version})" if version else \
            "but no Docker-Distribution-API-Version header: it may not be a registry"
        self.step("ping", OK if version else WARNING, f"GET {ping.path}: 200 OK, {said}"
                  + (" with the credentials" if self.authorization else ""), resp.ms)
        if not self.target.manifest:
            return OK, f"{root} answers{' and accepts the credentials' if self.authorization else ''} (no image checked)"
        return self.manifest(root)

    def manifest(self, root: URL) -> tuple[str, str]:
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
            digest = printable(resp.header("Docker-Content-Digest"), 100) or "no digest header"
            self.digest = printable(resp.header("Docker-Content-Digest"), 100)
            kind = printable(resp.header("Content-Type"), 80) or "no content type"
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
                where = printable(URL.parse(urllib.parse.urljoin(str(url), resp.header("Location"))).origin, 120)
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


def probe(target: Target, limits: Limits = DEFAULT_LIMITS, deadline: float | None = None,
          resolver: Resolver = system_resolver) -> Report:
    """Every step of reaching one endpoint, in words. Never raises for anything the network does."""
    start = time.monotonic()
    deadline = deadline if deadline is not None else start + limits.total
    p = _Probe(target, limits, deadline, resolver)
    outcome, summary, tried = FAILED, "no API root to try", ""
    if any(root.startswith("https:") for root in target.roots):
        try:
            p.context()  # unusable TLS material is said before anything connects
        except Stop as e:
            return Report(target.label, target.roots[0], FAILED, str(e), p.steps, ms_since(start))
    for i, root in enumerate(target.roots):
        tried = root
        try:
            outcome, summary = p.run(URL.parse(root))
            break
        except Unreachable as e:
            outcome, summary = FAILED, str(e)
            if i + 1 < len(target.roots):
                p.step("note", INFO, f"containerd then tries {target.roots[i + 1]}")
        except Stop as e:
            outcome, summary = FAILED, str(e)
            break
    return Report(target.label, tried, outcome, p.scrub(summary), p.steps, ms_since(start), p.digest)


def probe_all(targets: Sequence[Target], limits: Limits = DEFAULT_LIMITS, resolver: Resolver = system_resolver) -> list[Report]:
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
