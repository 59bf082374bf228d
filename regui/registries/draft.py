"""The Registries page as data: what the form posted, before it is saved.

Every box and row carries a short token, so field names and error slots stay attached to the
right row while rows are added and removed in the browser. Pure Python, no Django.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from regui.k3s.limits import (
    MAX_CONFIGS,
    MAX_ENDPOINTS,
    MAX_EXPANDED_BYTES,
    MAX_MIRRORS,
    MAX_REWRITE_COPIES_BYTES,
    MAX_REWRITES,
    MAX_REWRITES_TOTAL,
    MAX_VALUE_CHARS,
    pattern_problem,
    rewrite_copies,
    size_text,
)

from .validation import (
    check_ca_bundle,
    check_endpoint,
    check_hostname,
    check_rewrite_pattern,
    check_rewrite_replacement,
    endpoint_identity,
    pem_text,
)

TOKEN = re.compile(r"[a-z0-9]{1,16}")
AUTH_NONE, AUTH_CREATE_BASIC, AUTH_CREATE_RKE = "none", "create-basic", "create-rke"
# Longest values the models keep (their max_length comes from here); longer ones cannot be saved.
HOST_MAX, USERNAME_MAX, PATH_MAX = 262, 255, 4096
# The largest form the Registries page's URLs read (preview, insight, save): checked against the
# request's Content-Length before Django parses it. The counts and lengths are regui/k3s/limits.py's.
MAX_POST_BYTES = 1024 * 1024


def new_token() -> str:
    # A letter first: the token is used in element ids, and CSS selectors cannot start with a digit.
    return "k" + secrets.token_hex(4)


def pem_from_bundle(text: str) -> str:
    """Rancher accepts a CA bundle as PEM or as base64 of PEM; keep PEM, with LF line endings."""
    if not text or "-----BEGIN" in text:
        return pem_text(text)
    try:
        decoded = base64.b64decode("".join(text.split()), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return text
    return pem_text(decoded.strip()) if "-----BEGIN" in decoded else text


@dataclass
class EndpointRow:
    token: str
    url: str = ""


@dataclass
class RewriteRow:
    token: str
    pattern: str = ""
    replacement: str = ""


@dataclass
class MirrorBox:
    token: str
    hostname: str = ""
    endpoints: list[EndpointRow] = field(default_factory=list)
    rewrites: list[RewriteRow] = field(default_factory=list)


@dataclass
class ConfigBox:
    token: str
    hostname: str = ""
    auth: str = AUTH_NONE  # AUTH_* or the id of an existing secret
    username: str = ""
    password: str = ""
    tls_secret: str = ""  # "" or the id of a TLS secret
    ca_bundle: str = ""
    insecure_skip_verify: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    empty_auth: bool = False
    empty_tls: bool = False


@dataclass
class Draft:
    revision: int = 0
    mirrors: list[MirrorBox] = field(default_factory=list)
    configs: list[ConfigBox] = field(default_factory=list)
    message: str = ""


class QueryDict(Protocol):
    """What a draft reads of a POST (Django's QueryDict; a plain stand-in in pure tests)."""

    def get(self, key: str, default: None = ...) -> str | None: ...
    def getlist(self, key: str) -> list[str]: ...


def _tokens(data: QueryDict, key: str) -> list[str]:
    # A dict keeps the first of repeated tokens in order; a list lookup made this quadratic.
    return list(dict.fromkeys(t for t in data.getlist(key) if TOKEN.fullmatch(t)))


# Rancher's Mirror Endpoints is one comma-separated field; lists copied from elsewhere come one a line.
_ENDPOINT_SEPARATORS = re.compile(r"[\s,]+")


def split_endpoints(text: str) -> list[str]:
    """Endpoints pasted or typed together: one a line, or separated by commas or spaces (an endpoint
    URL cannot hold a space, and a comma in one would be a first)."""
    return [piece for piece in _ENDPOINT_SEPARATORS.split(text) if piece]


def _endpoint_rows(token: str, url: str) -> list[EndpointRow]:
    # Several endpoints in one field (the page's script makes a row of each; a form posted without
    # it does not): a row each, the first keeping the field's token.
    pieces = split_endpoints(url) or [url]
    return [EndpointRow(token, pieces[0])] + [EndpointRow(new_token(), piece) for piece in pieces[1:]]


def draft_from_post(data: QueryDict) -> Draft:
    def text(key: str) -> str:
        return (data.get(key) or "").strip()

    try:
        revision = int(data.get("revision") or 0)
    except ValueError:
        revision = -1
    draft = Draft(revision=revision, message=text("message").replace("\0", "")[:500])
    for m in _tokens(data, "mirror"):
        draft.mirrors.append(MirrorBox(
            token=m,
            hostname=text(f"{m}-hostname"),
            endpoints=[row for e in _tokens(data, f"{m}-endpoint") for row in _endpoint_rows(e, text(f"{e}-url"))],
            rewrites=[
                RewriteRow(r, text(f"{r}-pattern"), text(f"{r}-replacement"))
                for r in _tokens(data, f"{m}-rewrite")
            ],
        ))
    for c in _tokens(data, "config"):
        draft.configs.append(ConfigBox(
            token=c,
            hostname=text(f"{c}-hostname"),
            auth=text(f"{c}-auth") or AUTH_NONE,
            username=text(f"{c}-username"),
            # Passwords keep their spaces: they are someone's exact secret.
            password=data.get(f"{c}-password") or "",
            tls_secret=text(f"{c}-tls_secret"),
            ca_bundle=pem_from_bundle(text(f"{c}-ca_bundle")),
            insecure_skip_verify=bool(data.get(f"{c}-insecure_skip_verify")),
            ca_file=text(f"{c}-ca_file"),
            cert_file=text(f"{c}-cert_file"),
            key_file=text(f"{c}-key_file"),
            empty_auth=bool(data.get(f"{c}-empty_auth")),
            empty_tls=bool(data.get(f"{c}-empty_tls")),
        ))
    return draft


def drop_blank_boxes(draft: Draft) -> Draft:
    """The draft without untouched boxes and rows (Rancher skips them; so do we, but only wholly
    empty ones). A new draft: the posted one stays as typed, to show again on an error."""
    mirrors = [
        replace(m, endpoints=[e for e in m.endpoints if e.url],
                rewrites=[r for r in m.rewrites if r.pattern or r.replacement])
        for m in draft.mirrors
        if m.hostname or any(e.url for e in m.endpoints) or any(r.pattern or r.replacement for r in m.rewrites)
    ]
    configs = [
        c for c in draft.configs
        if c.hostname or c.auth != AUTH_NONE or c.tls_secret or c.ca_bundle or c.insecure_skip_verify
        or c.ca_file or c.cert_file or c.key_file
    ]
    return replace(draft, mirrors=mirrors, configs=configs)


@dataclass(frozen=True)
class SecretInfo:
    id: int
    name: str
    kind: str  # "basic" | "rke_auth" | "tls"
    # The cluster may use it (its own, or shared with it by an admin); else naming it is an error.
    usable: bool = True


Errors = dict[str, list[str]]


def _add(errors: Errors, key: str, message: str | None) -> None:
    if message:
        errors.setdefault(key, []).append(message)


def _validate_mirror(m: MirrorBox, errors: Errors) -> None:
    _add(errors, f"{m.token}-hostname", check_hostname(m.hostname))
    seen: dict[str, str] = {}
    for e in m.endpoints:
        problem = check_endpoint(e.url)
        _add(errors, f"{e.token}-url", problem)
        if problem:
            continue
        ident = endpoint_identity(e.url)
        if ident in seen:
            _add(errors, f"{e.token}-url", f"Duplicate of endpoint “{seen[ident]}”: K3s would drop it.")
        seen.setdefault(ident, e.url)
    patterns: set[str] = set()
    for r in m.rewrites:
        problem = check_rewrite_pattern(r.pattern)
        _add(errors, f"{r.token}-pattern", problem)
        if not problem and r.pattern in patterns:
            _add(errors, f"{r.token}-pattern", "This pattern is already listed for this mirror.")
        patterns.add(r.pattern)
        _add(errors, f"{r.token}-replacement", check_rewrite_replacement(r.replacement, r.pattern))


def _not_usable(info: SecretInfo) -> str:
    return (f"Secret “{info.name}” belongs to another cluster and is not shared with this one: its values "
            "would reach this cluster's nodes. Ask an admin to share it, or create one for this cluster.")


def _secret_problem(value: str, secrets_by_id: Mapping[int, SecretInfo], kinds: tuple[str, ...],
                    wrong_kind: str) -> str | None:
    info = secrets_by_id.get(int(value)) if value.isascii() and value.isdigit() else None
    if info is None or info.kind not in kinds:
        return wrong_kind
    return None if info.usable else _not_usable(info)


def secret_reference_errors(draft: Draft, secrets_by_id: Mapping[int, SecretInfo]) -> Errors:
    """The boxes naming a secret the cluster may not use: checked on every save, imports and restores
    included, which keep other problems as K3s would take them."""
    errors: Errors = {}
    for c in draft.configs:
        for slot, value in ((f"{c.token}-auth", c.auth), (f"{c.token}-tls_secret", c.tls_secret)):
            info = secrets_by_id.get(int(value)) if value.isascii() and value.isdigit() else None
            if info is not None and not info.usable:
                _add(errors, slot, _not_usable(info))
    return errors


def _validate_config(c: ConfigBox, secrets_by_id: Mapping[int, SecretInfo], errors: Errors) -> None:
    _add(errors, f"{c.token}-hostname", check_hostname(c.hostname))
    if c.auth in (AUTH_CREATE_BASIC, AUTH_CREATE_RKE):
        if not c.username:
            _add(errors, f"{c.token}-username", "Username is required.")
        if not c.password:
            _add(errors, f"{c.token}-password", "Password is required.")
    elif c.auth != AUTH_NONE:
        _add(errors, f"{c.token}-auth", _secret_problem(c.auth, secrets_by_id, ("basic", "rke_auth"),
                                                        "Choose an HTTP Basic Auth or RKE Auth Config secret."))
    if c.tls_secret:
        _add(errors, f"{c.token}-tls_secret", _secret_problem(c.tls_secret, secrets_by_id, ("tls",),
                                                              "Choose a TLS Certificate secret."))
        if c.cert_file or c.key_file:
            _add(errors, f"{c.token}-tls_secret", "Use either a TLS Secret or node-side cert/key paths, not both.")
    _add(errors, f"{c.token}-ca_bundle", check_ca_bundle(c.ca_bundle))
    if c.ca_bundle and c.ca_file:
        _add(errors, f"{c.token}-ca_file", "Use either the CA Cert Bundle or a node-side CA path, not both.")
    for name in ("ca_file", "cert_file", "key_file"):
        path = getattr(c, name)
        if path and not path.startswith("/"):
            _add(errors, f"{c.token}-{name}", "Give an absolute path on the node.")
        elif len(path) > PATH_MAX:
            _add(errors, f"{c.token}-{name}", f"A path on the node has {PATH_MAX} characters at most.")
    if c.auth in (AUTH_CREATE_BASIC, AUTH_CREATE_RKE) and len(c.username) > USERNAME_MAX:
        _add(errors, f"{c.token}-username", f"A username has {USERNAME_MAX} characters at most.")


NUL_MESSAGE = "Remove the NUL character: no file or database can keep it."


def _check_nul(draft: Draft, errors: Errors) -> None:
    for m in draft.mirrors:
        fields = [(f"{m.token}-hostname", m.hostname), *((f"{e.token}-url", e.url) for e in m.endpoints),
                  *((f"{r.token}-{k}", getattr(r, k)) for r in m.rewrites for k in ("pattern", "replacement"))]
        for slot, value in fields:
            if "\0" in value:
                _add(errors, slot, NUL_MESSAGE)
    for c in draft.configs:
        for name in ("hostname", "username", "password", "ca_bundle", "ca_file", "cert_file", "key_file"):
            if "\0" in getattr(c, name):
                _add(errors, f"{c.token}-{name}", NUL_MESSAGE)


def too_big(content_length: int) -> str | None:
    """Why a posted form is refused unread, or None."""
    if content_length <= MAX_POST_BYTES:
        return None
    return (f"The form is {content_length // 1024} KiB; regui reads at most {size_text(MAX_POST_BYTES)}, many "
            "times what a real cluster's registries take.")


def _over(count: int, limit: int, what: str) -> str:
    return f"regui works on at most {limit} {what}: this is number {count}. Remove it, or the ones before it."


def draft_limits(draft: Draft) -> Errors:
    """The draft beyond regui's limits (the same ones the parser applies to a file), each next to the
    first box, row or field past them. Checked before any other work, so that a huge form costs
    one pass over it."""
    errors: Errors = {}
    sections = (([m.token for m in draft.mirrors], MAX_MIRRORS, "mirrors"),
                ([c.token for c in draft.configs], MAX_CONFIGS, "Registry Authentication entries"))
    for tokens, limit, what in sections:
        if len(tokens) > limit:
            _add(errors, f"{tokens[limit]}-hostname", _over(limit + 1, limit, what))
    total = 0
    copies: list[tuple[int, str]] = []
    for m in draft.mirrors[:MAX_MIRRORS]:
        for rows, limit, slot, what in ((m.endpoints, MAX_ENDPOINTS, "url", "endpoints per mirror"),
                                        (m.rewrites, MAX_REWRITES, "pattern", "rewrites per mirror")):
            if len(rows) > limit:
                _add(errors, f"{rows[limit].token}-{slot}", _over(limit + 1, limit, what))
        for r in m.rewrites:
            if problem := pattern_problem(r.pattern):
                _add(errors, f"{r.token}-pattern", f"A pattern {problem}.")
            total += 1
            if total == MAX_REWRITES_TOTAL + 1:
                _add(errors, f"{r.token}-pattern", _over(total, MAX_REWRITES_TOTAL, "rewrites in all"))
        copies.append((rewrite_copies(len(m.endpoints), ((r.pattern, r.replacement) for r in m.rewrites)), m.token))
    if sum(n for n, _ in copies) > MAX_REWRITE_COPIES_BYTES:
        biggest, token = max(copies)
        _add(errors, f"{token}-hostname", f"K3s copies a mirror's rewrites into each of its endpoints: these come "
             f"to more than {size_text(MAX_REWRITE_COPIES_BYTES)} of hosts.toml ({biggest // 1024} KiB from this "
             "mirror), regui's limit. Use fewer or shorter rewrites, or fewer endpoints.")
    # What the parser will count of the render (regui/k3s/limits.Budget), over-estimated: keys,
    # separators and the redaction markers of secret values come on top of the values themselves.
    size = 64 * len(draft.mirrors) + 384 * len(draft.configs)
    for slot, length in _lengths(draft):
        if length > MAX_VALUE_CHARS:
            _add(errors, slot, f"At most {MAX_VALUE_CHARS} characters here (this makes {length}).")
        size += length + 16
        if size > MAX_EXPANDED_BYTES >= size - length - 16:
            _add(errors, slot, f"With this value the registries come to more than "
                 f"{size_text(MAX_EXPANDED_BYTES)} of text, regui's limit: remove some, or shorten them.")
    return errors


def _lengths(draft: Draft) -> Iterator[tuple[str, int]]:
    """The length of every value the render writes into registries.yaml, with its field's slot."""
    for m in draft.mirrors:
        yield f"{m.token}-hostname", len(m.hostname)
        yield from ((f"{e.token}-url", len(e.url)) for e in m.endpoints)
        for r in m.rewrites:
            yield f"{r.token}-pattern", len(r.pattern)
            yield f"{r.token}-replacement", len(r.replacement)
    for c in draft.configs:
        for name in ("hostname", "ca_file", "cert_file", "key_file"):
            yield f"{c.token}-{name}", len(getattr(c, name))
        if c.auth in (AUTH_CREATE_BASIC, AUTH_CREATE_RKE):
            yield f"{c.token}-username", len(c.username)
            if c.auth == AUTH_CREATE_BASIC:
                yield f"{c.token}-password", len(c.password)
            else:  # an RKE Auth Config is written as base64 of user:password
                yield f"{c.token}-password", 4 * -(-len(f"{c.username}:{c.password}".encode()) // 3)


def validate_draft(draft: Draft, secrets_by_id: Mapping[int, SecretInfo]) -> Errors:
    if errors := draft_limits(draft):
        return errors
    _check_nul(draft, errors)
    hosts: dict[str, str] = {}
    for m in draft.mirrors:
        _validate_mirror(m, errors)
        if m.hostname in hosts:
            _add(errors, f"{m.token}-hostname", f"“{m.hostname}” already has a mirror box above.")
        hosts.setdefault(m.hostname, m.token)
    hosts = {}
    for c in draft.configs:
        _validate_config(c, secrets_by_id, errors)
        if c.hostname in hosts:
            _add(errors, f"{c.token}-hostname", f"“{c.hostname}” already has a Registry Authentication box above.")
        hosts.setdefault(c.hostname, c.token)
    return errors
