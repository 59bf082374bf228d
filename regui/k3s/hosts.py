"""registries.yaml -> certs.d/<dir>/hosts.toml, following K3s ``getHostConfigs`` and its template."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .gostrings import go_quote
from .model import TLS, Mirror, Registries, RegistriesParseError, RegistryConfig
from .parse import parse_registries
from .urls import GoURL, URLError, is_localhost, normalized
from .urls import parse as go_parse

SUPERVISOR_PORT = {"k3s": 6443, "rke2": 9345}
# The embedded registry's address as K3s passes it to getHostConfigs when the registry is off:
# net.JoinHostPort of its unset address and port. No endpoint host but ":" itself equals it, so an
# empty endpoint (host "") keeps its mirror's rewrites, as in K3s.
NO_EMBEDDED_REGISTRY = ":"
_EMPTY = RegistryConfig()
# unicode.IsSpace, which strings.TrimSpace uses: Python's str.strip() also strips \x1c-\x1f.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"


@dataclass
class RegistryEndpoint:
    url: GoURL | None
    config: RegistryConfig = field(default_factory=RegistryConfig)
    rewrites: dict[str, str] = field(default_factory=dict)
    override_path: bool = False

    @property
    def url_string(self) -> str | None:
        return None if self.url is None else str(self.url)

    def has_config(self) -> bool:
        return bool(self.override_path or self.config.auth is not None or self.config.tls is not None
                    or self.rewrites)


@dataclass
class HostConfig:
    default: RegistryEndpoint | None
    endpoints: list[RegistryEndpoint] = field(default_factory=list)


@dataclass
class GenerateResult:
    hosts_dirs: dict[str, str] = field(default_factory=dict)
    cri_auth: dict[str, dict[str, str]] = field(default_factory=dict)
    parse_error: str | None = None
    parse_error_line: int | None = None
    warnings: list[str] = field(default_factory=list)
    # Structured view of each dir, in containerd's try order (same shape as the vectors file).
    hosts_in_order: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    host_configs: dict[str, HostConfig] = field(default_factory=dict)
    registries: Registries | None = None
    program: str = "k3s"

    @property
    def cri_auth_toml_v3(self) -> str:
        return render_cri_auth(self.cri_auth)


def embedded_registry_address(program: str, ipv6: bool = False) -> str:
    """Where containerd reaches the node's own embedded registry: K3s ``net.JoinHostPort(
    controlConfig.Loopback(false), SupervisorPort)`` (pkg/agent/config/config.go). ``Loopback`` is
    ``::1`` when the cluster's first service CIDR is IPv6 (IPv6-only, or IPv6-first dual-stack)."""
    loopback = "[::1]" if ipv6 else "127.0.0.1"
    return f"{loopback}:{SUPERVISOR_PORT.get(program, 6443)}"


def embedded_registry_addresses(program: str) -> tuple[str, str]:
    return embedded_registry_address(program), embedded_registry_address(program, ipv6=True)


def inject_mirror(reg: Registries, program: str, ipv6: bool = False) -> list[str]:
    """spegel ``InjectMirror``: the embedded registry goes first on every non-loopback mirror."""
    addr = embedded_registry_address(program, ipv6)
    url = f"https://{addr}/v2"
    agent = f"/var/lib/rancher/{program}/agent"
    reg.configs[addr] = RegistryConfig(tls=TLS(
        ca_file=f"{agent}/server-ca.crt",
        cert_file=f"{agent}/client-{program}-controller.crt",
        key_file=f"{agent}/client-{program}-controller.key",
    ))
    logs: list[str] = []
    shared: list[str] = []
    for host, mirror in reg.mirrors.items():
        if host == addr:
            continue
        if not is_localhost(host):
            mirror.endpoints = [url, *mirror.endpoints]
        try:
            go_parse("https://" + host)
            ok = not is_localhost(host)
        except URLError:
            ok = False
        if ok:
            shared.append(host)
        else:
            logs.append(f"Distributed registry mirror skipping invalid registry: {host}")
    reg.mirrors[addr] = Mirror(endpoints=[url])
    if not shared:
        logs.append("Not starting distributed registry mirror: no registries configured for distributed mirroring")
    return logs


def config_for_host(configs: dict[str, RegistryConfig], host: str) -> RegistryConfig:
    """K3s ``configForHost``: docker.io prefers the registry-1.docker.io key."""
    if host == "docker.io" and "registry-1.docker.io" in configs:
        return configs["registry-1.docker.io"]
    return configs.get(host, _EMPTY)


def _default_host_config(reg: Registries, host: str, mirror_addr: str, config: RegistryConfig) -> HostConfig:
    try:
        n = normalized(reg.memo, host, mirror_addr)
    except URLError as e:
        raise URLError(f"invalid endpoint URL {host} for {host}: {e}") from None
    return HostConfig(default=RegistryEndpoint(url=None if host == "*" else n.url, config=config))


def get_host_configs(reg: Registries, no_default: bool, mirror_addr: str,
                     logs: list[str]) -> dict[str, HostConfig]:
    hosts: dict[str, HostConfig] = {}
    for host, config in reg.configs.items():
        try:
            hc = _default_host_config(reg, host, mirror_addr, config)
        except URLError as e:
            logs.append(f"Failed to generate config for registry {host}: {e}")
            continue
        hosts["_default" if host == "*" else host] = hc

    for host, mirror in reg.mirrors.items():
        # "*" is looked up verbatim, so a "*" config (stored as _default) is never reused here.
        existing = hosts.get(host)
        if existing is not None:
            hc = existing
        else:
            try:
                hc = _default_host_config(reg, host, mirror_addr, config_for_host(reg.configs, host))
            except URLError as e:
                logs.append(f"Failed to generate config for registry {host}: {e}")
                continue
            if no_default:
                hc.default = None
            elif host == "*":
                hc.default = RegistryEndpoint(url=GoURL())
        seen: set[str] = set()
        last = len(mirror.endpoints) - 1
        for i, endpoint in enumerate(mirror.endpoints):
            try:
                n = normalized(reg.memo, endpoint, mirror_addr)
            except URLError as e:
                logs.append(f"Ignoring invalid endpoint URL {i}={endpoint} for {host}: {e}")
                continue
            if n.url_string in seen:
                logs.append(f"Skipping duplicate endpoint URL {i}={endpoint} for {host}")
                continue
            seen.add(n.url_string)
            ep = RegistryEndpoint(
                url=n.url,
                config=config_for_host(reg.configs, n.registry),
                # the embedded registry serves images under their original names
                rewrites=dict(mirror.rewrites) if n.url.host != mirror_addr else {},
                override_path=n.override_path,
            )
            default_url = hc.default.url_string if hc.default is not None else None
            if i == last and (default_url or "") == n.url_string:
                hc.default = ep
            else:
                hc.endpoints.append(ep)
        hosts["_default" if host == "*" else host] = hc

    return {h: c for h, c in hosts.items() if c.endpoints or (c.default is not None and c.default.has_config())}


def _tls_lines(tls: TLS | None, indent: str) -> list[str]:
    if tls is None:
        return []
    out = []
    if tls.ca_file:
        out.append(f"{indent}ca = [{go_quote(tls.ca_file)}]")
    if tls.cert_file or tls.key_file:
        out.append(f"{indent}client = [[{go_quote(tls.cert_file)}, {go_quote(tls.key_file)}]]")
    if tls.insecure_skip_verify:
        out.append(f"{indent}skip_verify = true")
    return out


def render_hosts_toml(hc: HostConfig, program: str) -> str:
    """K3s ``HostsTomlTemplate`` followed by its blank-line normalisation."""
    lines = [f"# File generated by {program}. DO NOT EDIT."]
    d = hc.default
    if d is not None:
        if d.url is not None:
            lines.append(f'server = "{d.url}"')
            lines.append('capabilities = ["pull", "resolve", "push"]')
        lines.extend(_tls_lines(d.config.tls, ""))
    lines.append("[host]")
    for ep in hc.endpoints:
        # URLs and rewrites are pasted in without escaping, exactly like K3s does.
        lines.append(f'[host."{ep.url}"]')
        lines.append('  capabilities = ["pull", "resolve"]')
        if ep.override_path:
            lines.append("  override_path = true")
        lines.extend(_tls_lines(ep.config.tls, "  "))
        if ep.rewrites:
            lines.append(f'  [host."{ep.url}".rewrite]')
            for pattern in sorted(ep.rewrites):
                lines.append(f'    "{pattern}" = "{ep.rewrites[pattern]}"')
    out: list[str] = []
    for line in "\n".join(lines).split("\n"):
        # trimEmpty: bufio.ScanLines drops one "\r" before each "\n", strings.TrimSpace decides what is blank.
        line = line.removesuffix("\r")
        if line.strip(_GO_SPACE) == "":
            continue
        if line.startswith("["):
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"


def _tls_dict(tls: TLS | None) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if tls is None:
        return d
    if tls.ca_file:
        d["ca"] = [tls.ca_file]
    if tls.cert_file or tls.key_file:
        d["client"] = [[tls.cert_file, tls.key_file]]
    if tls.insecure_skip_verify:
        d["skip_verify"] = True
    return d


def hosts_in_order(hc: HostConfig) -> list[dict[str, Any]]:
    """What containerd tries for this dir: [host] blocks in order, then the server."""
    out: list[dict[str, Any]] = []
    for ep in hc.endpoints:
        item: dict[str, Any] = {"role": "mirror", "url": ep.url_string, "capabilities": ["pull", "resolve"]}
        if ep.override_path:
            item["override_path"] = True
        item.update(_tls_dict(ep.config.tls))
        if ep.rewrites:
            item["rewrite"] = dict(sorted(ep.rewrites.items()))
        out.append(item)
    d = hc.default
    if d is not None and d.url is not None:
        out.append({"role": "server", "url": d.url_string, "capabilities": ["pull", "resolve", "push"],
                    **_tls_dict(d.config.tls)})
    elif not hc.endpoints:
        out.append({"role": "root-tls-only", **_tls_dict(d.config.tls if d else None)})
    return out


_CRI_FIELDS = (("username", "username"), ("password", "password"), ("auth", "auth"),
               ("identitytoken", "identity_token"))


def cri_auth(reg: Registries) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for key, config in reg.configs.items():
        if config.auth is not None:
            out[key] = {k: getattr(config.auth, a) for k, a in _CRI_FIELDS if getattr(config.auth, a)}
    return out


def render_cri_auth(auth: dict[str, dict[str, str]]) -> str:
    """The auth tables K3s renders into containerd's config.toml (v3 template)."""
    blocks = []
    for key in sorted(auth):
        lines = [f"[plugins.'io.containerd.cri.v1.images'.registry.configs.'{key}'.auth]"]
        lines += [f"  {k} = {go_quote(v)}" for k, v in auth[key].items()]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def generate_hosts(yaml_text: Any, program: str = "k3s", disable_default_endpoint: bool = False,
                   embedded_registry: bool = False, ipv6_primary: bool = False) -> GenerateResult:
    """What K3s writes to certs.d and config.toml for this registries.yaml. Never raises.
    ``ipv6_primary``: the cluster's first service CIDR is IPv6, so the embedded registry is [::1]."""
    program = program if isinstance(program, str) and program else "k3s"
    result = GenerateResult(program=program)
    try:
        reg = parse_registries(yaml_text)
    except RegistriesParseError as e:
        result.parse_error, result.parse_error_line = e.message, e.line
        return result
    return generate_from_registries(reg, program, bool(disable_default_endpoint), bool(embedded_registry),
                                    bool(ipv6_primary))


def generate_from_registries(reg: Registries, program: str = "k3s", disable_default_endpoint: bool = False,
                             embedded_registry: bool = False, ipv6_primary: bool = False) -> GenerateResult:
    """Like generate_hosts, for an already parsed file (lint reuses its parse)."""
    result = GenerateResult(program=program)
    try:
        _generate(result, reg, program, disable_default_endpoint, embedded_registry, ipv6_primary)
    except Exception as e:  # never let a bug here take the dashboard down; surface it instead
        result.hosts_dirs, result.hosts_in_order, result.cri_auth = {}, {}, {}
        result.parse_error = f"internal error while generating hosts.toml: {e!r}"
    return result


def _generate(result: GenerateResult, reg: Registries, program: str, disable_default_endpoint: bool,
              embedded_registry: bool, ipv6_primary: bool = False) -> None:
    result.registries = reg
    work = reg
    mirror_addr = NO_EMBEDDED_REGISTRY
    if embedded_registry:
        # InjectMirror edits the parsed file; keep the caller-visible copy pristine.
        work = Registries(mirrors={k: Mirror(list(m.endpoints), dict(m.rewrites)) for k, m in reg.mirrors.items()},
                          configs=dict(reg.configs), memo=reg.memo)
        mirror_addr = embedded_registry_address(program, ipv6_primary)
        result.warnings.extend(inject_mirror(work, program, ipv6_primary))
    configs = get_host_configs(work, disable_default_endpoint, mirror_addr, result.warnings)
    result.host_configs = configs
    for name in sorted(configs):
        result.hosts_dirs[name] = render_hosts_toml(configs[name], program)
        result.hosts_in_order[name] = hosts_in_order(configs[name])
    result.cri_auth = cri_auth(work)
