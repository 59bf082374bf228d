"""Import an existing registries.yaml into a cluster: parsed exactly as K3s parses it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction

from regui.k3s import RegistriesParseError, parse_registries
from regui.k3s.limits import RegistriesTooLarge

from .draft import (
    HOST_MAX,
    PATH_MAX,
    USERNAME_MAX,
    ConfigBox,
    Draft,
    EndpointRow,
    Errors,
    MirrorBox,
    RewriteRow,
    draft_limits,
    drop_blank_boxes,
    new_token,
)
from .models import Cluster, Secret
from .render import AuthSpec, ConfigSpec, MirrorSpec, RegistriesSpec, TLSSpec, render_yaml
from .selectors import draft_from_cluster
from .services import InvalidDraft, draft_problems, registries_save, secret_create


def printable(text: str) -> str:
    """Text for a page: a lone surrogate (a YAML "\\ud800" escape) cannot be sent as UTF-8, so it is
    shown as its escape instead of failing the whole answer."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class ImportRefused(Exception):
    def __init__(self, message: str, line: int | None = None, details: list[str] | None = None):
        super().__init__(printable(message))
        self.line = line
        self.details = [printable(d) for d in details or []]


@dataclass
class ImportResult:
    mirrors: int = 0
    configs: int = 0
    secrets: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        made = f"; created secret(s) {', '.join(self.secrets)}" if self.secrets else ""
        return f"Imported {self.mirrors} mirror(s) and {self.configs} registry authentication entries{made}."


def _secret_name(cluster: Cluster, host: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", f"{cluster.name}-{host}".lower()).strip("-")[:200] or "imported"
    name, n = f"{base}-auth", 1
    while Secret.objects.filter(name=name).exists():
        n += 1
        name = f"{base}-auth-{n}"
    return name


def _auth_secret(cluster: Cluster, host: str, auth) -> Secret | None:
    if not (auth.username or auth.password or auth.auth or auth.identity_token):
        return None
    rke = bool(auth.auth or auth.identity_token)
    # The cluster's own: the file came from (or is meant for) its nodes.
    return secret_create(
        cluster=cluster, name=_secret_name(cluster, host), kind=Secret.Kind.RKE_AUTH if rke else Secret.Kind.BASIC,
        username=auth.username, description=f"Imported from registries.yaml of {cluster.name} ({host})"[:200],
        values={"password": auth.password, "auth": auth.auth, "identity_token": auth.identity_token},
        message=f"from an imported registries.yaml ({host})")


def _message_for(errors: Errors, draft: Draft) -> list[str]:
    names: dict[str, str] = {}
    for m in draft.mirrors:
        names[m.token] = f"mirrors.{m.hostname}"
        names.update({e.token: f"mirrors.{m.hostname}.endpoint[{i}]" for i, e in enumerate(m.endpoints)})
        names.update({r.token: f"mirrors.{m.hostname}.rewrite[{r.pattern}]" for r in m.rewrites})
    for c in draft.configs:
        names[c.token] = f"configs.{c.hostname}"
    out = []
    for slot, problems in errors.items():
        token, _, fieldname = slot.partition("-")
        for problem in problems:
            out.append(f"{names.get(token, token)} ({fieldname}): {problem}")
    return out


@transaction.atomic
def registries_import(*, cluster: Cluster, text: str, replace: bool, user=None, message: str = "") -> ImportResult:
    """Create the file's mirrors, configs and inline credentials (as secrets), or save nothing."""
    try:
        parsed = parse_registries(text)
    except RegistriesTooLarge as exc:
        raise ImportRefused(f"regui does not import this file ({exc}).", exc.line) from None
    except RegistriesParseError as exc:
        where = f"line {exc.line}: " if getattr(exc, "line", None) else ""
        raise ImportRefused(f"K3s would refuse this file ({where}{exc})", getattr(exc, "line", None)) from None

    if unstorable := _unstorable(parsed):
        raise ImportRefused("K3s reads this file, but regui cannot keep some of its values as they are: "
                            "fix them and import again.", details=unstorable)

    draft = Draft() if replace else draft_from_cluster(cluster)
    # An import is not based on a page someone looked at: it applies to whatever is current.
    draft.revision = Cluster.objects.values_list("revision", flat=True).get(pk=cluster.pk)
    draft.message = message or ("Imported registries.yaml (replacing everything)" if replace else "Imported registries.yaml")
    result = ImportResult()
    for host, mirror in parsed.mirrors.items():
        box = MirrorBox(
            new_token(), host,
            endpoints=[EndpointRow(new_token(), e) for e in mirror.endpoints],
            rewrites=[RewriteRow(new_token(), p, r) for p, r in mirror.rewrites.items()],
        )
        draft.mirrors = [m for m in draft.mirrors if m.hostname != host] + [box]
        result.mirrors += 1
    for host, config in parsed.configs.items():
        config_box = ConfigBox(new_token(), host)
        if config.auth is not None:
            secret = _auth_secret(cluster, host, config.auth)
            if secret is None:
                config_box.empty_auth = True
            else:
                config_box.auth = str(secret.id)
                result.secrets.append(secret.name)
        if config.tls is not None:
            tls = config.tls
            config_box.ca_file, config_box.cert_file, config_box.key_file = tls.ca_file, tls.cert_file, tls.key_file
            config_box.insecure_skip_verify = bool(tls.insecure_skip_verify)
            config_box.empty_tls = not (tls.ca_file or tls.cert_file or tls.key_file or tls.insecure_skip_verify)
        draft.configs = [c for c in draft.configs if c.hostname != host] + [config_box]
        result.configs += 1
    if over := draft_limits(drop_blank_boxes(draft)):
        raise ImportRefused("Added to this cluster's registries, the file would take them beyond regui's limits: "
                            "import it with “Replace everything”, or remove some first.",
                            details=_message_for(over, draft))
    if parsed.ignored_keys:
        result.warnings.append(
            "K3s ignores these keys, so they were not imported: " + ", ".join(parsed.ignored_keys)
        )
    leaked = [f"mirrors.{m.hostname}.endpoint[{i}]" for m in draft.mirrors for i, e in enumerate(m.endpoints)
              if _has_userinfo(e.url)]
    if leaked:
        raise ImportRefused(
            "Credentials inside an endpoint URL would be stored and shown in plain text: move them to "
            "configs.<registry host>.auth and import again.", details=leaked)
    # K3s takes the file as it is, so regui does too; what the form would refuse is listed, shown
    # next to the fields on the Registries page, and lint errors still keep it from being pushed.
    problems = draft_problems(drop_blank_boxes(draft), cluster=cluster)
    try:
        registries_save(cluster=cluster, draft=draft, user=user, strict=False)
    except InvalidDraft as exc:  # what it keeps names a secret the cluster may not use
        raise ImportRefused("Nothing was imported: the registries it keeps use secrets this cluster may not use.",
                            details=_message_for(exc.errors, draft)) from None
    if problems:
        result.warnings.append("Imported as it is, but fix these before the next save from the Registries page: "
                               + "; ".join(_message_for(problems, draft)))
    result.warnings = [printable(w) for w in result.warnings]
    return result


_EMPTY_NAME = "an empty registry name (K3s writes certs.d/hosts.toml for it)"
_EMPTY_ENDPOINT = "an empty endpoint (K3s skips it but still writes hosts.toml for the registry); remove it"
_EMPTY_PATTERN = "an empty pattern (it matches every name); remove it"


def _unstorable(parsed) -> list[str]:
    """Values regui cannot keep as they are: empty names and endpoints (its form drops blanks, which
    would change what K3s writes), and what no column takes: too long, a NUL, bytes not UTF-8."""
    # (where, value, length limit or None, what an empty value means or None when empty is fine)
    checks: list[tuple[str, str, int | None, str | None]] = []
    for host, mirror in parsed.mirrors.items():
        at = f"mirrors.{host[:60]}"
        checks.append((at, host, HOST_MAX, _EMPTY_NAME))
        checks += [(f"{at}.endpoint[{i}]", e, None, _EMPTY_ENDPOINT) for i, e in enumerate(mirror.endpoints)]
        for pattern, replacement in mirror.rewrites.items():
            checks += [(f"{at}.rewrite pattern", pattern, None, _EMPTY_PATTERN),
                       (f"{at}.rewrite replacement", replacement, None, None)]
    for host, config in parsed.configs.items():
        at = f"configs.{host[:60]}"
        checks.append((at, host, HOST_MAX, _EMPTY_NAME))
        if config.auth is not None:
            checks.append((f"{at}.auth.username", config.auth.username, USERNAME_MAX, None))
        if config.tls is not None:
            checks += [(f"{at}.tls.{f}", getattr(config.tls, f), PATH_MAX, None) for f in ("ca_file", "cert_file", "key_file")]
    problems = []
    for where, value, limit, empty in checks:
        if value == "" and empty:
            problems.append(f"{where}: {empty}")
        elif limit is not None and len(value) > limit:
            problems.append(f"{where}: longer than {limit} characters")
        elif "\0" in value:
            problems.append(f"{where}: holds a NUL character")
        elif any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            problems.append(f"{where}: holds bytes that are not UTF-8")
    return problems


def _has_userinfo(url: str) -> bool:
    # By hand: urlsplit raises on some strings K3s takes (e.g. a lone "[").
    rest = url.split("://", 1)[1] if "://" in url else url
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return "@" in netloc


def registries_redacted(text: str, source: str) -> str:
    """A file someone else wrote, as regui would show it: same content, credentials replaced by markers."""
    try:
        parsed = parse_registries(text)
    except RegistriesTooLarge as exc:
        return f"# regui does not read this file: {exc}\n"
    except RegistriesParseError as exc:
        return f"# K3s would refuse this file: {exc}\n"
    spec = RegistriesSpec(
        mirrors=tuple(MirrorSpec(h, tuple(m.endpoints), tuple(m.rewrites.items())) for h, m in parsed.mirrors.items()),
        configs=tuple(
            ConfigSpec(
                h,
                AuthSpec(c.auth.username, c.auth.password, c.auth.auth, c.auth.identity_token, source) if c.auth else None,
                TLSSpec(c.tls.ca_file, c.tls.cert_file, c.tls.key_file, bool(c.tls.insecure_skip_verify)) if c.tls else None,
            )
            for h, c in parsed.configs.items()
        ),
    )
    return render_yaml(spec, redact=True)
