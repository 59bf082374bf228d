"""Lint registries.yaml for what K3s/RKE2 will *actually* do with it.

Each finding says what K3s will do (message) and how to fix it (hint). Severity: "error"
breaks the node, gets the file refused, or makes a hosts.toml invalid; "warning" is silent
misbehaviour; "info" explains a rule worth knowing. Fact numbers refer to §8 of the spec.

================================  ========  =====  ============================================
code                              severity  fact   fires when
================================  ========  =====  ============================================
parse-error                       error     1      K3s refuses the file (tab, unquoted ``*``,
                                                   type mismatch, quoted bool, bad YAML)
auth-token-key                    error     1      ``token``/``identitytoken`` under auth (ignored)
unknown-key                       warning   1      unknown/miscased key or ``auths`` (ignored)
invalid-endpoint                  error     4, 5   endpoint unparseable, non-http(s), empty host
endpoint-breaks-hosts-toml        error     —      ``"`` or ``\\`` in an endpoint URL as written
endpoint-plain-http-guess         warning   5      no scheme but port 80, or a non-loopback IP:port
                                                   (not 443): K3s will use https
endpoint-no-scheme                info      5      any other endpoint without a scheme: says the one
                                                   K3s picks (https; http for loopback:port)
k8s-gcr-frozen                    warning   —      an endpoint on k8s.gcr.io, or a k8s.gcr.io mirror
                                                   without one for registry.k8s.io
insecure-skip-verify-on-http      warning   5      ``insecure_skip_verify`` for an http:// endpoint
endpoint-override-path            warn/inf  4      path not ""/"/"/"/v2": used verbatim, no /v2 added
default-endpoint-listed           info      6      the upstream itself is listed as an endpoint
duplicate-endpoint                warning   6      the same URL after normalisation, dropped
mirror-without-endpoints          warn/inf  8, 10  a mirror with no endpoints (no-op unless
                                                   the embedded registry is on; a warning where
                                                   it is with --disable-default-registry-endpoint:
                                                   only peers are asked)
mirror-key-never-matches          error     —      key cannot be a registry in an image name
invalid-registry-key              error     —      K3s cannot parse a mirror/config key: skipped
config-port-mismatch              warning   2      endpoint and config key differ only by port
config-host-unused                warn/inf  2      a configs key no mirror is named after and no
                                                   endpoint is on (docker.io's two names count as
                                                   one): info if images may name it, else warning
config-keyed-by-mirror-name       warning   2      creds/TLS keyed by the mirror name, endpoint
                                                   host differs: they never apply to the endpoint
dockerhub-auth-key                warning   3      credentials under ``docker.io``
wildcard-auth-unused              warning   3, 7   auth under ``"*"``: containerd never uses it
wildcard-config-dropped           warning   7      ``"*"`` config discarded by a ``"*"`` mirror
default-dir-collision             warning   —      ``"*"`` and ``_default`` configs: both write
                                                   certs.d/_default, and which K3s keeps changes
                                                   from one start to the next (mirrors: see
                                                   mirror-key-never-matches)
disable-default-ineffective       warning   8      mirror name also a configs key: with
                                                   --disable-default-registry-endpoint the
                                                   upstream server line is kept anyway (not
                                                   said when no node runs the flag)
rewrite-invalid-regex             error     9      pattern RE2/Go cannot compile (skipped)
rewrite-breaks-hosts-toml         error     9      ``\\``, ``"`` or control char in a rewrite
rewrite-ambiguous-group           error     9      ``$1x`` in a replacement (group named "1x")
rewrite-overlap                   warning   9      two patterns can both change the same name
rewrite-names-registry            warning   9      an anchored pattern starts with the mirror's
                                                   registry (``^docker.io/``): it sees the path only
rewrites-lost                     warning   6, 9   rewrites that no mirror endpoint receives
tls-client-pair-incomplete        warning   —      cert_file without key_file or vice versa
tls-path-breaks-hosts-toml        error     —      a TLS path Go's %q escapes in a way TOML cannot
                                                   read (control characters, invalid UTF-8)
configs-key-breaks-config-toml    error     —      a configs key with auth that K3s's config.toml
                                                   template cannot quote (``'`` for config v3, ``"``
                                                   or ``\\`` for v2, control characters for both)
hosts-toml-invalid                error     —      a hosts.toml K3s writes with the nodes' flags
                                                   (see Agent flags) is not valid TOML
restart-required                  info      10     any content: only read at service start
too-large                         error     —      beyond regui's limits (regui/k3s/limits.py):
                                                   not analysed
================================  ========  =====  ============================================

Agent flags (``flags``): what each node runs K3s with changes the hosts.toml files it writes, so
``hosts-toml-invalid`` checks them as written with each set of engine options given (generate_hosts's
``disable_default_endpoint``, ``embedded_registry``, ``ipv6_primary``): a cluster's, and those its nodes set
for themselves. Without them (a file imported or linted on the command line) a node may run with
either: the file is checked without and with the embedded registry, the one flag that can make it
invalid (the other options only drop a server line or move the registry's address).
``mirror-without-endpoints`` and ``disable-default-ineffective`` also say what the flags given make of
the entry (shared peer to peer, pulls only from peers, an upstream kept); without flags, both cases.

Plain-HTTP heuristic (``endpoint-plain-http-guess``): a scheme-less endpoint whose port is 80,
or whose host is a non-loopback IP literal with an explicit port other than 443, is most
likely a plain-HTTP registry; K3s gives it https (only loopback gets http). Every other
scheme-less endpoint gets ``endpoint-no-scheme``, which only says what K3s picks.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .gostrings import go_quote
from .hosts import SUPERVISOR_PORT, embedded_registry_addresses, generate_from_registries
from .limits import RegistriesTooLarge
from .linter_mirrors import config_hosts, lint_mirror, never_matches
from .model import Registries, RegistriesParseError
from .parse import parse_registries
from .urls import URLError, normalized, split_host_port_lenient

EMBEDDED_ADDRESSES = frozenset(a for p in SUPERVISOR_PORT for a in embedded_registry_addresses(p))
# The engine's options of one node (regui.registries.selectors.engine_flags); missing ones are off.
Flags = Mapping[str, bool]
# The nodes' flags unknown: either may be on.
EITHER_EMBEDDED: tuple[Flags, ...] = ({}, {"embedded_registry": True})
FLAG_WORDS = {"disable_default_endpoint": "--disable-default-registry-endpoint",
              "embedded_registry": "--embedded-registry"}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "error" | "warning" | "info"
    path: tuple[Any, ...]
    message: str
    hint: str
    line: int | None = None


_SUGGEST = {"endpoints": "endpoint", "rewrites": "rewrite", "mirror": "mirrors", "config": "configs",
            "insecure-skip-verify": "insecure_skip_verify", "insecureSkipVerify": "insecure_skip_verify",
            "ca": "ca_file", "cert": "cert_file", "key": "key_file", "user": "username",
            "identityToken": "identity_token"}


def _parse_error_hint(msg: str) -> str:
    if "cannot start any token" in msg or "tab character" in msg:
        return "Indent with spaces only; YAML forbids tabs for indentation."
    if "directive" in msg or "incompatible YAML document" in msg:
        return "K3s's YAML reader (yaml.v2) takes only %YAML 1.1 and %TAG directives: delete the directive line."
    if "escape" in msg or "hexdecimal" in msg:
        return ("Inside double quotes K3s's YAML reader knows only YAML 1.1 escapes (no \\/, no escaped surrogates): "
                "write the character itself, or use single quotes.")
    if "alphabetic or numeric character" in msg:
        return 'Quote the wildcard key: write "*": instead of *:.'
    if "into bool" in msg:
        return "Write insecure_skip_verify: true (unquoted); a quoted \"true\" is a string."
    if "into []string" in msg:
        return "Make endpoint a list: endpoint: [\"https://mirror.example.com\"]."
    return "Fix the YAML so it decodes into K3s's schema; validate before pushing to nodes."


def _unknown_keys(reg: Registries, out: list[Finding]) -> None:
    for path in reg.ignored_paths:
        key = path[-1]
        line = reg.lines.get(path)
        if path == ("auths",):
            out.append(Finding("unknown-key", "warning", path, "`auths` is a containerd 1.x leftover: K3s "
                               "decodes it but never uses it, so these credentials are ignored.",
                               "Move the credentials to configs.<registry host>.auth.", line))
        elif len(path) == 4 and path[0] == "configs" and path[2] == "auth" and key in ("token", "identitytoken"):
            out.append(Finding("auth-token-key", "error", path, f"`{key}` is not a K3s auth key; it is "
                               "silently dropped and the registry is accessed without this token.",
                               "Use identity_token (with underscore) for a refresh/identity token, or "
                               "username/password.", line))
        elif "\ufeff" in key:
            # yaml.v2 keeps a BOM that starts a line (see yamlscan.py): `cat` of two files that start with one.
            shown = key.replace("\ufeff", "")
            out.append(Finding("unknown-key", "warning", path, f"K3s ignores the key `{shown}` with an invisible "
                               "byte order mark (U+FEFF) before it: to K3s that is another, unknown key, so this "
                               "section has no effect.", f"Delete the byte order mark before `{shown}` (an editor "
                               "that shows invisible characters, or re-save the file as UTF-8 without BOM).", line))
        else:
            guess = _SUGGEST.get(key) or next((f for f in ("mirrors", "configs", "endpoint", "rewrite", "auth",
                                                          "tls", "username", "password", "identity_token",
                                                          "ca_file", "cert_file", "key_file",
                                                          "insecure_skip_verify") if f == key.lower()), None)
            hint = f"Did you mean `{guess}`? Keys are case-sensitive." if guess else "Remove the key."
            out.append(Finding("unknown-key", "warning", path, f"K3s ignores the unknown key `{key}` "
                               "(non-strict YAML decoding): it has no effect.", hint, line))


def _configs(reg: Registries, out: list[Finding]) -> None:
    for key, cfg in reg.configs.items():
        path = ("configs", key)
        line = reg.lines.get(path)
        if cfg.auth is not None:  # rendered into config.toml even when K3s cannot parse the key
            _config_toml_key(key, line, out)
        if key != "*":
            try:
                n = normalized(reg.memo, key)
            except URLError as e:
                out.append(Finding("invalid-registry-key", "error", path, f"K3s cannot parse the configs key "
                                   f"`{key}` ({e}); it logs an error and skips this entry.",
                                   "Use a host[:port] key without scheme, e.g. registry.example.com:5000.", line))
                continue
            if "://" in key or n.override_path:
                out.append(Finding("invalid-registry-key", "error", path, f"configs keys are matched against "
                                   f"endpoint host[:port] only; `{key}` (with scheme or path) never matches.",
                                   f"Use `{n.url.host}` as the key.", line))
        if cfg.auth is not None and key == "*":
            out.append(Finding("wildcard-auth-unused", "warning", (*path, "auth"), "Credentials under \"*\" are "
                               "rendered into containerd's config but containerd looks credentials up by the "
                               "exact host it contacts, so they are never used.",
                               "Repeat the credentials under each registry/mirror host[:port].",
                               reg.lines.get((*path, "auth"))))
        if key == "*" and "*" in reg.mirrors:
            out.append(Finding("wildcard-config-dropped", "warning", path, "A \"*\" mirror also exists: K3s "
                               "writes _default/hosts.toml from the mirror and discards this config's TLS "
                               "settings.", "Put the TLS settings under the mirror endpoints' host[:port] keys.",
                               line))
        if key == "docker.io" and cfg.auth is not None:
            out.append(Finding("dockerhub-auth-key", "warning", (*path, "auth"), "Docker Hub is contacted as "
                               "registry-1.docker.io; credentials under docker.io only work on K3s/RKE2 builds "
                               "with containerd v2.0.5-k3s2 or newer (2025+), older nodes pull anonymously.",
                               "Key Docker Hub credentials as registry-1.docker.io.",
                               reg.lines.get((*path, "auth"))))
        tls = cfg.tls
        for field in ("ca_file", "cert_file", "key_file") if tls is not None else ():
            value = getattr(tls, field)
            if value and not _toml_reads_go_quote(value):
                out.append(Finding("tls-path-breaks-hosts-toml", "error", (*path, "tls", field), f"K3s writes "
                                   f"{field} into hosts.toml with Go's %q, whose escape for a character in it is "
                                   "not valid TOML: containerd rejects the file and ignores every mirror and TLS "
                                   "setting for this registry.", "Use a plain path (no control characters).",
                                   reg.lines.get((*path, "tls", field))))
        if tls is not None and bool(tls.cert_file) != bool(tls.key_file):
            out.append(Finding("tls-client-pair-incomplete", "warning", (*path, "tls"), "Only one of cert_file/"
                               "key_file is set; K3s writes an empty string for the other and containerd "
                               "fails to load the client certificate for this host.",
                               "Set both cert_file and key_file, or neither.", reg.lines.get((*path, "tls"))))


# K3s's containerd config templates put a configs key with auth into a table name unescaped
# (pkg/agent/templates: `{{ range $k, $v := .PrivateRegistryConfig.Configs }}{{ if $v.Auth }}`).
_CONFIG_TOML_TABLES = {
    "config v3 (containerd 2)": ("io.containerd.cri.v1.images", "[plugins.'io.containerd.cri.v1.images'"
                                 ".registry.configs.'{key}'.auth]"),
    "config v2 (containerd 1.7)": ("io.containerd.grpc.v1.cri", '[plugins."io.containerd.grpc.v1.cri"'
                                   '.registry.configs."{key}".auth]'),
}


def _config_toml_key(key: str, line: int | None, out: list[Finding]) -> None:
    broken = []
    for template, (plugin, table) in _CONFIG_TOML_TABLES.items():
        try:
            read = tomllib.loads(table.replace("{key}", key))["plugins"][plugin]["registry"]["configs"]
        except (tomllib.TOMLDecodeError, KeyError, TypeError):
            read = {}
        if list(read) != [key]:
            broken.append(template)
    if broken:
        out.append(Finding("configs-key-breaks-config-toml", "error", ("configs", key), f"K3s writes this key's "
                           f"credentials into containerd's config.toml without escaping it, which breaks the file "
                           f"for {' and '.join(broken)}: containerd refuses to start, and so does the node.",
                           "Key credentials by the registry's host[:port] only: no quotes, backslashes or "
                           "control characters.", line))


def _default_dir_collisions(reg: Registries, out: list[Finding]) -> None:
    """K3s stores "*" under the directory _default, where a key spelled _default goes too, and walks its
    maps in Go's random order (getHostConfigs): of two such keys in one section, the last one stored
    wins, a different one from one start of the agent to the next. A "*" mirror stores its own entry
    after every config, so the configs' pair only matters without one. The mirrors' pair is
    mirror-key-never-matches's (linter_mirrors.py), which says what each order writes: a second finding
    on that key said it otherwise."""
    if "*" not in reg.mirrors and "*" in reg.configs and "_default" in reg.configs:
        path = ("configs", "_default")
        out.append(Finding("default-dir-collision", "warning", path, "configs has both \"*\" and "
                           "`_default`: K3s writes both to certs.d/_default/hosts.toml, and which one it "
                           "keeps is chosen at random each time the agent starts.",
                           "Keep one of the two keys (\"*\" is the documented one).", reg.lines.get(path)))


def _config_users(reg: Registries) -> set[str]:
    """The configs keys K3s looks up for the mirrors: their names and their endpoints' host[:port]."""
    used = {"docker.io", "registry-1.docker.io"}  # Docker Hub is pulled by name everywhere, and as both
    for name, mirror in reg.mirrors.items():
        used.add(name)
        for endpoint in mirror.endpoints:
            try:
                used.add(normalized(reg.memo, endpoint).registry)
            except URLError:
                continue
    return used


def _unused_configs(reg: Registries, out: list[Finding]) -> None:
    used = _config_users(reg)
    ports = {split_host_port_lenient(u)[0]: u for u in sorted(used)}
    for key in reg.configs:
        if key in used or key == "*" or key in EMBEDDED_ADDRESSES:
            continue  # "*": see wildcard-*; the embedded registry's address: K3s replaces that entry
        try:
            n = normalized(reg.memo, key)
        except URLError:
            continue  # invalid-registry-key says so
        if "://" in key or n.override_path:
            continue
        path, line = ("configs", key), reg.lines.get(("configs", key))
        near = ports.get(split_host_port_lenient(key)[0])
        hint = (f"Did you mean `{near}`? configs are matched by the exact host[:port]." if near else
                "Key it by the host[:port] of the mirror endpoint it is for, or remove it.")
        if never_matches(key):
            out.append(Finding("config-host-unused", "warning", path, f"No mirror is named `{key}` and no "
                               f"endpoint is on it, and no image can name it as its registry: K3s writes "
                               f"certs.d/{key}/hosts.toml and nothing ever reads it.", hint, line))
        else:
            out.append(Finding("config-host-unused", "info", path, f"No mirror is named `{key}` and no mirror "
                               f"endpoint is on it: this entry only applies to images pulled from {key} by "
                               f"name ({key}/<repository>).", hint, line))


# Rules that predict from the input itself that K3s will write an invalid hosts.toml.
PREDICTS_BROKEN_TOML = ("rewrite-breaks-hosts-toml", "endpoint-breaks-hosts-toml", "tls-path-breaks-hosts-toml")


def _toml_reads_go_quote(value: str) -> bool:
    try:
        tomllib.loads("v = " + go_quote(value))
    except tomllib.TOMLDecodeError:
        return False
    return True


def _hosts_toml_validity(reg: Registries, program: str, flags: Sequence[Flags], out: list[Finding]) -> None:
    if any(f.code in PREDICTS_BROKEN_TOML for f in out):
        return
    seen: set[str] = set()
    for options in flags:
        result = generate_from_registries(reg, program, bool(options.get("disable_default_endpoint")),
                                          bool(options.get("embedded_registry")), bool(options.get("ipv6_primary")))
        on = [words for name, words in FLAG_WORDS.items() if options.get(name)]
        with_flags = f" with {' and '.join(on)}" if on else ""
        for name, toml_text in result.hosts_dirs.items():
            try:
                tomllib.loads(toml_text)
            except tomllib.TOMLDecodeError as e:
                if name in seen:
                    continue
                seen.add(name)
                section = "mirrors" if name == "_default" or name in reg.mirrors else "configs"
                key = "*" if name == "_default" else name
                out.append(Finding("hosts-toml-invalid", "error", (section, key), f"certs.d/{name}/hosts.toml "
                                   f"would not be valid TOML{with_flags} ({e}); containerd rejects it and ignores "
                                   "every mirror and TLS setting for this registry.", _invalid_hint(reg, name), None))


def _invalid_hint(reg: Registries, name: str) -> str:
    # K3s writes "*" and a `_default` mirror into the same file: the duplicate is theirs, not a stray quote's.
    if name == "_default" and "*" in reg.mirrors and "_default" in reg.mirrors:
        return 'Remove the `_default` mirror and list its endpoints under "*" (K3s writes both to certs.d/_default).'
    return "Remove control characters, quotes and backslashes from paths, endpoints and rewrites."


def lint(yaml_text: Any, program: str = "k3s", flags: Sequence[Flags] | None = None) -> list[Finding]:
    """Findings for a registries.yaml. Never raises. `flags`: the engine options of the nodes (see above)."""
    program = program if program in ("k3s", "rke2") else "k3s"
    try:
        reg = parse_registries(yaml_text)
    except RegistriesTooLarge as e:
        return [Finding("too-large", "error", (), f"regui does not analyse this file: {e.message}.",
                        "Stay within regui's limits (regui/k3s/limits.py), which are many times what real "
                        "clusters use: remove what is beyond them.", e.line)]
    except RegistriesParseError as e:
        where = f" (line {e.line})" if e.line else ""
        return [Finding("parse-error", "error", (), f"{program} refuses this file{where}: {e.message}. The agent "
                        "keeps retrying 'Waiting to retrieve agent configuration' and containerd/kubelet never "
                        "start.", _parse_error_hint(e.message), e.line)]
    return lint_registries(reg, program, flags)


def lint_registries(reg: Registries, program: str = "k3s", flags: Sequence[Flags] | None = None) -> list[Finding]:
    """Findings for an already parsed file (the insight tabs parse once for all three)."""
    program = program if program in ("k3s", "rke2") else "k3s"
    out: list[Finding] = []
    try:
        _unknown_keys(reg, out)
        _configs(reg, out)
        _unused_configs(reg, out)
        _default_dir_collisions(reg, out)
        by_host = config_hosts(reg)
        for name, mirror in reg.mirrors.items():
            out.extend(Finding(*f) for f in lint_mirror(reg, name, mirror, by_host, flags))
        _hosts_toml_validity(reg, program, EITHER_EMBEDDED if flags is None else flags, out)
        if reg.mirrors or reg.configs:
            services = "rke2-server / rke2-agent" if program == "rke2" else "k3s / k3s-agent"
            out.append(Finding("restart-required", "info", (), f"{program} reads registries.yaml only at start: "
                               f"restart {services} on every node that uses it (servers run an agent too).",
                               "Restart the service on each node after pushing the file.", None))
    except Exception as e:  # a lint bug must never take the editor down
        out.append(Finding("internal-error", "info", (), f"lint could not finish: {e!r}", "Report this.", None))
    # Two rules can reach the same conclusion about one field; say it once.
    seen: set[tuple[str, tuple[Any, ...], str]] = set()
    unique = []
    for f in out:
        if (f.code, f.path, f.message) not in seen:
            seen.add((f.code, f.path, f.message))
            unique.append(f)
    return unique
