"""Which URLs containerd requests for an image, given what K3s generated.

We read the generated hosts.toml back with ``tomllib`` the way containerd reads it, so every
quirk of the written file (unescaped rewrites, invalid TOML, ``server = ""``) carries through.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any

from .gostrings import clean_path, join_path
from .hosts import GenerateResult, generate_hosts
from .reference import ImageRef, ReferenceError, parse_image
from .rewrite import rewrite_outcomes
from .urlescape import query_escape
from .urls import URLError, is_localhost, split_host_port, split_host_port_lenient
from .urls import parse as go_parse


@dataclass
class TLSInfo:
    ca: list[str] = field(default_factory=list)
    client: list[list[str]] = field(default_factory=list)
    skip_verify: bool = False


@dataclass
class Attempt:
    role: str  # "mirror" | "server"
    host_url: str  # as written in hosts.toml ("" for the wildcard's server = "")
    urls: list[str]  # several when Go's random rewrite order decides
    auth_key: str | None
    tls: TLSInfo
    rewritten_from: str | None = None
    override_path: bool = False
    # containerd upgrades an http host with TLS options (port != 80) to https-then-http.
    https_first: bool = False


@dataclass
class PullExplanation:
    image: str | None = None
    registry: str | None = None
    repository: str | None = None
    reference: str | None = None
    hosts_dir: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Host:
    role: str
    host_url: str
    scheme: str = ""
    host: str = ""
    path: str = ""
    capabilities: list[str] = field(default_factory=lambda: ["pull", "resolve", "push"])
    tls: TLSInfo = field(default_factory=TLSInfo)
    override_path: bool = False
    rewrites: dict[str, str] = field(default_factory=dict)


def _strings(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def _host_config(server: str, cfg: dict[str, Any], role: str) -> _Host:
    """containerd ``parseHostConfig`` for one [host."..."] table or the root table."""
    h = _Host(role=role, host_url=server)
    h.override_path = cfg.get("override_path") is True
    if server:
        raw = server if server.startswith("http") else "https://" + server
        u = go_parse(raw)
        h.scheme, h.host = u.scheme, u.host
        if u.path:
            p = clean_path(u.path)
            h.path = p if p.endswith("/v2") or h.override_path else p + "/v2"
        else:
            h.path = "" if h.override_path else "/v2"
    caps = cfg.get("capabilities")
    if isinstance(caps, list):
        h.capabilities = [c for c in caps if isinstance(c, str)]
    h.tls.ca = _strings(cfg.get("ca"))
    client = cfg.get("client")
    if isinstance(client, list):
        h.tls.client = [[x for x in pair if isinstance(x, str)] if isinstance(pair, list) else [pair]
                        for pair in client]
    elif isinstance(client, str):
        h.tls.client = [[client]]
    h.tls.skip_verify = cfg.get("skip_verify") is True
    rw = cfg.get("rewrite")
    if isinstance(rw, dict):
        h.rewrites = {k: v for k, v in rw.items() if isinstance(v, str)}
    return h


def _fill_default(h: _Host, registry: str) -> None:
    """containerd fills an empty server with the pulled registry's own endpoint."""
    h.path = "/v2"
    h.capabilities = ["pull", "resolve", "push"]
    if registry == "docker.io":
        h.scheme, h.host = "https", "registry-1.docker.io"
    elif is_localhost(registry):
        h.host = registry
        hp = split_host_port(registry)
        port = hp[1] if hp else ""
        h.scheme = "https" if port in ("", "443") else "http"
        if port != "80":
            h.tls.skip_verify = True
    else:
        h.scheme, h.host = "https", registry


def _containerd_hosts(doc: dict[str, Any] | None, registry: str) -> list[_Host]:
    hosts: list[_Host] = []
    if doc is not None:
        table = doc.get("host")
        if isinstance(table, dict):
            for key, cfg in table.items():
                if isinstance(cfg, dict):
                    hosts.append(_host_config(key, cfg, "mirror"))
        server = doc.get("server")
        if "server" in doc or not hosts:
            hosts.append(_host_config(server if isinstance(server, str) else "", doc, "server"))
    else:
        hosts.append(_Host(role="server", host_url=""))
    if not hosts[-1].host:
        _fill_default(hosts[-1], registry)
    return [h for h in hosts if "resolve" in h.capabilities]


def _auth_key(host: str, cri_auth: dict[str, dict[str, str]]) -> str | None:
    if host in cri_auth:
        return host
    # K3s containerd >= v2.0.5-k3s2 also accepts Docker Hub credentials keyed docker.io.
    if host == "registry-1.docker.io" and "docker.io" in cri_auth:
        return "docker.io"
    return None


def _attempt(h: _Host, ref: ImageRef, cri_auth: dict[str, dict[str, str]]) -> Attempt:
    outcomes = rewrite_outcomes(h.rewrites, ref.repository) if h.rewrites else None
    repos = [o.repository for o in outcomes] if outcomes else [ref.repository]
    proxied = ref.registry != h.host and not (ref.registry == "docker.io" and h.host == "registry-1.docker.io")
    query = f"?ns={query_escape(ref.registry)}" if proxied else ""
    urls = [f"{h.scheme}://{h.host}{join_path('/', h.path, repo, 'manifests', ref.reference)}{query}"
            for repo in repos]
    changed = outcomes is not None and outcomes[0].pattern is not None
    port = (split_host_port(h.host) or ("", ""))[1]
    has_tls = bool(h.tls.ca or h.tls.client or h.tls.skip_verify)
    return Attempt(role=h.role, host_url=h.host_url, urls=urls, auth_key=_auth_key(h.host, cri_auth),
                   tls=h.tls, rewritten_from=ref.repository if changed else None,
                   override_path=h.override_path,
                   https_first=h.scheme == "http" and has_tls and port not in ("", "80"))


def _host_directory(host: str) -> str:
    """containerd ``hostDirectory``: ``host:port`` -> ``host_port_`` (the name Windows nodes need)."""
    i = host.rfind(":")
    return host[:i] + "_" + host[i + 1:] + "_" if i > 0 else host


def explain_from_result(result: GenerateResult, image: Any) -> PullExplanation:
    p = PullExplanation()
    try:
        ref = parse_image(image)
    except ReferenceError as e:
        p.error = str(e)
        return p
    p.image, p.registry, p.repository, p.reference = str(ref), ref.registry, ref.repository, ref.reference
    if result.parse_error is not None:
        p.error = f"registries.yaml is refused by {result.program}: {result.parse_error}"
        return p
    # Linux lookup order (containerd hostPaths): certs.d/<host>_<port>_, certs.d/<registry>, then
    # certs.d/_default; the first that exists is read and nothing is merged.
    for candidate in (_host_directory(ref.registry), ref.registry, "_default"):
        if candidate in result.hosts_dirs:
            p.hosts_dir = candidate
            break
    doc: dict[str, Any] | None = None
    if p.hosts_dir is not None:
        try:
            doc = tomllib.loads(result.hosts_dirs[p.hosts_dir])
        except tomllib.TOMLDecodeError as e:
            p.notes.append(f"certs.d/{p.hosts_dir}/hosts.toml is not valid TOML ({e}); containerd "
                           "rejects it and uses only the registry's default endpoint")
    try:
        hosts = _containerd_hosts(doc, ref.registry)
    except URLError as e:
        p.error = f"containerd cannot parse a host in certs.d/{p.hosts_dir}/hosts.toml: {e}"
        return p
    p.attempts = [_attempt(h, ref, result.cri_auth) for h in hosts]
    for h in hosts:
        if not split_host_port_lenient(h.host)[0]:
            # K3s writes an empty endpoint as https:///v2 (with the mirror's rewrites): listed, never reached.
            p.notes.append(f"{h.host_url} has no host name: containerd's request there fails at once "
                           "(\"no Host in request URL\") and it goes on to the next host")
    return p


def explain_pull(yaml_text: Any, image: Any, program: str = "k3s", disable_default_endpoint: bool = False,
                 embedded_registry: bool = False, ipv6_primary: bool = False) -> PullExplanation:
    """Explain how containerd on a K3s/RKE2 node pulls ``image``. Never raises."""
    try:
        result = generate_hosts(yaml_text, program, disable_default_endpoint, embedded_registry, ipv6_primary)
        return explain_from_result(result, image)
    except Exception as e:  # defensive: the dashboard must render something for any input
        return PullExplanation(error=f"internal error while explaining the pull: {e!r}")
