"""Lint rules for one ``mirrors`` entry: its key, endpoints and rewrites (codes: see linter.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .model import Mirror, Registries
from .overlap import overlaps
from .rewrite import RewriteError, ambiguous_group_refs, compile_pattern
from .urls import URLError, is_localhost, normalized, parse_ip, split_host_port_lenient

# (code, severity, path, message, hint, line)
Raw = tuple[str, str, tuple[Any, ...], str, str, "int | None"]
# The engine options of each kind of node (linter.Flags); None: not known (a file linted on its own).
AgentFlags = Sequence[Mapping[str, bool]] | None

FROZEN_REGISTRY = "k8s.gcr.io"
_FROZEN = ("k8s.gcr.io has been frozen since 3 April 2023 and is being phased out: images published since "
           "(Kubernetes 1.27 and later patches) are only on registry.k8s.io.")


def never_matches(key: str) -> bool:
    if key == "*":
        return False
    if "/" in key:
        return True
    return "." not in key and ":" not in key and key != "localhost" and key.lower() == key


DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")


def _names_registry(key: str, pattern: str) -> str:
    """The part of an anchored pattern before its first slash, when it matches the mirror's registry
    name: written as if containerd matched the whole image reference. "" when it does not (or for "*",
    whose registry varies)."""
    head, slash, _ = pattern.removeprefix("^").partition("/")
    if key == "*" or not pattern.startswith("^") or not slash or any(c in head for c in "()|*+?{}$^"):
        return ""
    names = DOCKER_HUB if key.lower() in DOCKER_HUB else (key.lower(),)
    try:
        return head if any(re.fullmatch(head, name) for name in names) else ""
    except re.error:
        return ""


def _rewrites(reg: Registries, key: str, mirror: Mirror) -> Iterator[Raw]:
    base = ("mirrors", key, "rewrite")
    valid: list[str] = []
    for pattern, repl in mirror.rewrites.items():
        path, line = (*base, pattern), reg.lines.get((*base, pattern))
        bad = [c for c in pattern + repl if c in '\\"' or ord(c) < 0x20 or ord(c) == 0x7F]
        if bad:
            yield ("rewrite-breaks-hosts-toml", "error", path, f"K3s writes rewrites into hosts.toml without "
                   f"escaping; {bad[0]!r} makes certs.d/{'_default' if key == '*' else key}/hosts.toml invalid "
                   "(or silently changes the pattern), so containerd ignores all mirrors for this registry.",
                   "Avoid backslashes and quotes: use [.] instead of \\., [0-9] instead of \\d.", line)
        try:
            compile_pattern(pattern)
            valid.append(pattern)
        except RewriteError as e:
            yield ("rewrite-invalid-regex", "error", path, f"containerd cannot compile this RE2 pattern ({e}); it "
                   "logs 'Failed to compile rewrite' on every pull and skips it.",
                   "Use RE2 syntax: no look-arounds or back-references.", line)
        refs = ambiguous_group_refs(repl)
        if refs:
            yield ("rewrite-ambiguous-group", "error", path, f"In Go's Expand, {refs[0]} means the group named "
                   f"{refs[0][1:]!r}, which does not exist, so it expands to nothing.",
                   f"Write ${{{refs[0][1:].rstrip('_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ')}}} "
                   "with braces before the text that follows.", line)
    for pattern in valid:
        if named := _names_registry(key, pattern):
            yield ("rewrite-names-registry", "warning", (*base, pattern), f"containerd rewrites only the repository "
                   f"path, without the registry (library/nginx, not docker.io/library/nginx): this pattern starts "
                   f"with {named}/ and never changes a pull of {key}.",
                   f"Drop {named}/ from the pattern: ^{pattern.removeprefix('^')[len(named) + 1:]}",
                   reg.lines.get((*base, pattern)))
    for o in overlaps(mirror.rewrites, valid):
        yield ("rewrite-overlap", "warning", (*base, o.second), f"Patterns {o.first!r} and {o.second!r} both "
               f"change {o.sample!r}; containerd tries them in random order (Go map), so the result differs "
               "between pulls.", "Make the patterns mutually exclusive, e.g. anchor them with ^.",
               reg.lines.get((*base, o.second)))


def _default_key_message(with_wildcard: bool) -> str:
    """What K3s writes for a mirror keyed `_default` (pinned in tests/k3s/test_wildcard_and_default_dir.py)."""
    if not with_wildcard:
        return ("`_default` is the directory K3s writes for \"*\": this mirror serves every registry without a "
                "directory of its own, with https://_default/v2 (no such host) as its last endpoint, and no "
                "image names `_default` as its registry.")
    return ("`_default` is also the directory K3s writes \"*\" to, and which of the two it writes depends on "
            "the order it visits the mirrors in (Go map order: the file's on most starts, not on every one). "
            "Reaching \"*\" first, it appends these endpoints to the \"*\" file; reaching this one first, "
            "\"*\" replaces it. With --embedded-registry the appended file lists the embedded registry twice, "
            "which is not valid TOML: containerd ignores the file.")


def config_hosts(reg: Registries) -> dict[str, str]:
    """The first configs key of each host name (port dropped): built once per file, not per endpoint."""
    first: dict[str, str] = {}
    for k in reg.configs:
        if k != "*":
            first.setdefault(split_host_port_lenient(k)[0], k)
    return first


def _who(some: Sequence[Mapping[str, bool]], flags: Sequence[Mapping[str, bool]] | None) -> str:
    return "the cluster's nodes" if flags is not None and len(some) == len(flags) else "some of the cluster's nodes"


def _without_endpoints(key: str, flags: AgentFlags) -> tuple[str, str, str]:
    """(severity, message, hint) of mirror-without-endpoints: what the entry does on the nodes, as their
    flags make K3s write it (spec §2.9 and §5; checked against hosts.generate_from_registries)."""
    if is_localhost(key):
        # The embedded registry neither serves nor shares a loopback registry (spegel InjectMirror).
        return ("info", "This mirror has no endpoints, so K3s writes no hosts.toml for it, and the embedded "
                "registry does not share loopback registries: the entry has no effect.",
                "Add endpoints, or remove the entry.")
    if flags is None:
        return ("info", "This mirror has no endpoints: without the embedded registry it writes no hosts.toml and "
                "the upstream is used as usual; with --embedded-registry it opts the registry into peer-to-peer "
                "sharing.", "Add endpoints, or keep it only for the embedded registry.")
    what = "every registry without a mirror of its own" if key == "*" else key
    sharing = [f for f in flags if f.get("embedded_registry")]
    if not sharing:
        return ("info", "This mirror has no endpoints and the cluster's nodes run without the embedded registry: "
                "K3s writes no hosts.toml for it and the upstream is used as usual, so the entry has no effect.",
                f"Add endpoints, or remove the entry (with --embedded-registry it would opt {what} into "
                "peer-to-peer sharing).")
    only_peers = [f for f in sharing if f.get("disable_default_endpoint")]
    said = (f"This mirror has no endpoints: with --embedded-registry, which {_who(sharing, flags)} run, it opts "
            f"{what} into peer-to-peer sharing (containerd asks the embedded registry first")
    if not only_peers:
        said += ", then the upstream)."
    elif len(only_peers) == len(sharing):
        said += ("), and with --disable-default-registry-endpoint there is no upstream after it: pulls fail when "
                 "no peer has the image.")
    else:
        said += (", then the upstream); on the nodes that also run --disable-default-registry-endpoint there is "
                 "no upstream after it: pulls fail when no peer has the image.")
    if len(sharing) < len(flags):
        said += " On the nodes without the embedded registry K3s writes no hosts.toml for it: the upstream is used."
    if only_peers:
        return ("warning", said, "Add endpoints (listing the upstream keeps it reachable), or keep it so if every "
                "image is sure to be on a peer.")
    return ("info", said, "Add endpoints to pull through a mirror as well; none are needed for sharing.")


def lint_mirror(reg: Registries, key: str, mirror: Mirror,
                by_host: dict[str, str] | None = None, flags: AgentFlags = None) -> Iterator[Raw]:
    """Findings for one mirror; ``by_host`` is ``config_hosts(reg)``, passed in when linting many;
    ``flags`` the nodes' engine options (linter.Flags), None when not known."""
    by_host = config_hosts(reg) if by_host is None else by_host
    path, line = ("mirrors", key), reg.lines.get(("mirrors", key))
    default_url: str | None = None
    if key != "*":
        try:
            default_url = normalized(reg.memo, key).url_string
        except URLError as e:
            yield ("invalid-registry-key", "error", path, f"K3s cannot parse the mirror key `{key}` ({e}); the "
                   "whole mirror is skipped.", "Use the registry name exactly as in image names.", line)
            return
    if key == "_default":
        yield ("mirror-key-never-matches", "error", path, _default_key_message("*" in reg.mirrors),
               'Use the quoted wildcard "*" instead (with these endpoints).', line)
    elif never_matches(key):
        yield ("mirror-key-never-matches", "error", path, f"No image reference can have `{key}` as its registry "
               "(a registry needs a dot, a colon, or to be localhost), so this mirror is never used.",
               "Use the full registry name, e.g. docker.io or registry.example.com:5000; quote \"*\" for all.",
               line)
    if key.lower() == FROZEN_REGISTRY and "registry.k8s.io" not in reg.mirrors:
        yield ("k8s-gcr-frozen", "warning", path, _FROZEN + " This file mirrors k8s.gcr.io but not registry.k8s.io.",
               "Add the same mirror for registry.k8s.io (keep this one while images still name k8s.gcr.io).",
               line)
    if not mirror.endpoints:
        severity, message, hint = _without_endpoints(key, flags)
        yield ("mirror-without-endpoints", severity, path, message, hint, line)
    seen: dict[str, int] = {}
    received_rewrites = False
    last = len(mirror.endpoints) - 1
    for i, ep in enumerate(mirror.endpoints):
        ep_path, ep_line = (*path, "endpoint", i), reg.lines.get((*path, "endpoint", i))
        try:
            n = normalized(reg.memo, ep)
        except URLError as e:
            yield ("invalid-endpoint", "error", ep_path, f"K3s skips this endpoint: {e}.",
                   "Write a URL like https://mirror.example.com:5000.", ep_line)
            continue
        u = n.url
        if u.scheme not in ("http", "https") or not u.host or u.opaque:
            yield ("invalid-endpoint", "error", ep_path, f"K3s does not validate endpoints and writes "
                   f"{n.url_string!r} into hosts.toml, but containerd cannot use it (scheme {u.scheme!r}, "
                   f"host {u.host!r}).", "Use http:// or https:// with a host name.", ep_line)
        if any(c in n.url_string for c in '"\\'):
            yield ("endpoint-breaks-hosts-toml", "error", ep_path, "The URL is written into hosts.toml without "
                   "escaping; its quote/backslash makes the file invalid TOML.",
                   "Percent-encode the character or remove it.", ep_line)
        if n.url_string in seen:
            yield ("duplicate-endpoint", "warning", ep_path, f"Same URL as endpoint {seen[n.url_string]} after "
                   f"normalisation ({n.url_string}); K3s drops this copy.", "Remove the duplicate.", ep_line)
            continue
        seen[n.url_string] = i
        if n.override_path:
            sloppy = u.path.endswith("/") or "//" in u.path
            yield ("endpoint-override-path", "warning" if sloppy else "info", ep_path, f"The path {u.path!r} is "
                   "not empty, / or /v2, so K3s writes override_path = true: containerd uses it verbatim as the "
                   f"API root (no /v2 added) and requests {n.url_string.rstrip('/')}/<repo>/manifests/<ref>.",
                   "Use https://host or https://host/v2 for a normal registry; keep a custom path only for "
                   "proxies that serve the API there (e.g. /v2/<project>).", ep_line)
        hostname, port = split_host_port_lenient(u.host)
        ip = parse_ip(hostname)
        if "://" not in ep and (port == "80" or (ip is not None and port not in ("", "443")
                                                 and not is_localhost(u.host))):
            yield ("endpoint-plain-http-guess", "warning", ep_path, f"No scheme given, so K3s uses "
                   f"{n.url_string}; if this registry speaks plain HTTP the pulls fail with a TLS error.",
                   f"Write http://{ep} if it is plain HTTP (or https:// to make it explicit).", ep_line)
        elif "://" not in ep and hostname:
            # The plain-HTTP guess above says more where it applies; elsewhere, say which scheme K3s picks.
            if u.scheme == "http":
                why, hint = ("a loopback host on a port other than 443 gets http",
                             f"Write http://{ep} so the file says it (https:// if this registry speaks TLS).")
            else:
                why, hint = ("K3s assumes https; only a loopback host on a port other than 443 gets http",
                             f"Write https://{ep} so the file says it, or http://{ep} for a plain-HTTP registry.")
            yield ("endpoint-no-scheme", "info", ep_path, f"No scheme given, so K3s uses {n.url_string} ({why}).",
                   hint, ep_line)
        if hostname.lower() == FROZEN_REGISTRY:
            yield ("k8s-gcr-frozen", "warning", ep_path, _FROZEN, "Use https://registry.k8s.io as the endpoint.",
                   ep_line)
        cfg = reg.configs.get(n.registry)
        if n.registry == "docker.io":
            cfg = reg.configs.get("registry-1.docker.io", cfg)
        if cfg is None:
            other = by_host.get(hostname)
            if other is not None:
                yield ("config-port-mismatch", "warning", ep_path, f"configs has {other!r} but this endpoint "
                       f"is {n.registry!r}; configs are matched by the exact host[:port], so no TLS/auth "
                       "applies here.", f"Rename the configs key to {n.registry!r} (or make the ports match).",
                       ep_line)
        elif u.scheme == "http" and cfg.tls is not None and cfg.tls.insecure_skip_verify:
            yield ("insecure-skip-verify-on-http", "warning", ep_path, "insecure_skip_verify is set for an "
                   "http:// endpoint: TLS settings make containerd try HTTPS first (then fall back), and "
                   "skip_verify has nothing to verify on plain HTTP.",
                   "Drop the tls block for plain-HTTP registries, or switch the endpoint to https://.", ep_line)
        if key != "*" and key in reg.configs and n.registry != key and cfg is None:
            mc = reg.configs[key]
            if mc.auth is not None or mc.tls is not None:
                yield ("config-keyed-by-mirror-name", "warning", ("configs", key), f"configs[{key!r}] applies "
                       f"only to {key}'s upstream server, not to the mirror endpoint {n.registry}; pulls through "
                       "the mirror go without these credentials/TLS.", f"Add a configs entry keyed "
                       f"{n.registry!r}.", reg.lines.get(("configs", key)))
        if n.url_string == default_url:
            folded = i == last
            yield ("default-endpoint-listed", "info", ep_path, "This is the registry's own default endpoint; "
                   + ("as the last entry it becomes the server line (tried last, never rewritten)." if folded
                      else "not being last, it stays a mirror host and the default is tried again at the end."),
                   "Omit it: K3s always adds the upstream last (unless --disable-default-registry-endpoint).",
                   ep_line)
            if folded:
                continue
        received_rewrites = True
    if mirror.rewrites and not received_rewrites:
        yield ("rewrites-lost", "warning", (*path, "rewrite"), "No mirror endpoint receives these rewrites "
               "(rewrites never apply to the default/server endpoint), so they have no effect.",
               "To rewrite a registry's own pulls, list an endpoint that differs textually from the default, "
               "e.g. https://registry.example.com:443.", reg.lines.get((*path, "rewrite")))
    # With the nodes' flags known and none of them removing the upstream, the warning is about a flag
    # nobody runs: noise beside the findings that matter, and the Lint tab lints again with the flags
    # of the moment, so turning the flag on later brings it back when it starts to apply.
    removing = None if flags is None else [f for f in flags if f.get("disable_default_endpoint")]
    if key != "*" and key in reg.configs and mirror.endpoints and removing != []:
        said = ("If you use --disable-default-registry-endpoint: " if removing is None else
                f"--disable-default-registry-endpoint, which {_who(removing, flags)} run, does not remove "
                f"{key}'s upstream: ")
        yield ("disable-default-ineffective", "warning", ("configs", key), f"{said}configs has the same key as "
               f"the mirror {key!r}, so K3s reuses the configs entry and keeps the upstream server line for "
               "this registry anyway.",
               "Move the TLS/auth to the endpoints' host keys, or accept that the upstream stays reachable.",
               reg.lines.get(("configs", key)))
    yield from _rewrites(reg, key, mirror)
