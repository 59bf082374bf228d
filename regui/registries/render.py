"""Registries data -> the exact bytes of `registries.yaml` (pure Python, no Django).

Deterministic: the same data always gives the same bytes, so a push can compare sha256 sums.
"""

from __future__ import annotations

from dataclasses import dataclass

from .yamltext import scalar

HEADER = "# Managed by regui. Changes made on the node are overwritten by the next push.\n"
AUTH_FIELDS = ("username", "password", "auth", "identity_token")
SECRET_AUTH_FIELDS = ("password", "auth", "identity_token")


@dataclass(frozen=True)
class AuthSpec:
    username: str = ""
    password: str = ""
    auth: str = ""
    identity_token: str = ""
    secret_name: str = ""


@dataclass(frozen=True)
class TLSSpec:
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure_skip_verify: bool = False


@dataclass(frozen=True)
class MirrorSpec:
    host: str
    endpoints: tuple[str, ...] = ()
    rewrites: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ConfigSpec:
    host: str
    auth: AuthSpec | None = None
    tls: TLSSpec | None = None


@dataclass(frozen=True)
class RegistriesSpec:
    mirrors: tuple[MirrorSpec, ...] = ()
    configs: tuple[ConfigSpec, ...] = ()


def tls_dir(distro: str, host: str) -> str:
    """Rancher's convention for TLS material that the dashboard owns."""
    name = "_default" if host == "*" else host
    return f"/var/lib/rancher/{distro}/etc/tls/registries/{name}"


def redaction_marker(secret_name: str, field_name: str) -> str:
    return f"<redacted: {field_name} of secret {secret_name}>"


def _auth_lines(auth: AuthSpec, redact: bool) -> list[str]:
    lines = []
    for name in AUTH_FIELDS:
        value = getattr(auth, name)
        if not value:
            continue
        if redact and name in SECRET_AUTH_FIELDS:
            value = redaction_marker(auth.secret_name or "(inline)", name)
        lines.append(f"      {name}: {scalar(value)}")
    return lines or []


def _tls_lines(tls: TLSSpec) -> list[str]:
    lines = [f"      {name}: {scalar(getattr(tls, name))}" for name in ("ca_file", "cert_file", "key_file")
             if getattr(tls, name)]
    if tls.insecure_skip_verify:
        lines.append("      insecure_skip_verify: true")
    return lines


# A YAML reader (libyaml, so K3s's yaml.v2 too) takes `key: value` only when the key is at most
# 1024 characters long; a longer key needs the explicit form `? key` / `: value`.
IMPLICIT_KEY_MAX = 1024


def _rewrite_line(pattern: str, replacement: str) -> str:
    key = scalar(pattern)
    if len(key) <= IMPLICIT_KEY_MAX:
        return f"      {key}: {scalar(replacement)}\n"
    return f"      ? {key}\n      : {scalar(replacement)}\n"


def render_yaml(spec: RegistriesSpec, *, redact: bool = False) -> str:
    out = [HEADER]
    if spec.mirrors:
        out.append("mirrors:\n")
        for m in spec.mirrors:
            if not m.endpoints and not m.rewrites:
                out.append(f"  {scalar(m.host)}: {{}}\n")
                continue
            out.append(f"  {scalar(m.host)}:\n")
            if m.endpoints:
                out.append("    endpoint:\n")
                out.extend(f"      - {scalar(e)}\n" for e in m.endpoints)
            if m.rewrites:
                out.append("    rewrite:\n")
                out.extend(_rewrite_line(p, r) for p, r in m.rewrites)
    if spec.configs:
        out.append("configs:\n")
        for c in spec.configs:
            body: list[str] = []
            if c.auth is not None:
                auth = _auth_lines(c.auth, redact)
                body.extend(["    auth:"] + auth if auth else ["    auth: {}"])
            if c.tls is not None:
                tls = _tls_lines(c.tls)
                body.extend(["    tls:"] + tls if tls else ["    tls: {}"])
            if body:
                out.append(f"  {scalar(c.host)}:\n" + "".join(line + "\n" for line in body))
            else:
                out.append(f"  {scalar(c.host)}: {{}}\n")
    if len(out) == 1:
        out.append("{}\n")
    return "".join(out)
