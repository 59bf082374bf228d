"""How safely a registry secret travels: below admin, a save may not make it easier to intercept.

containerd sends a config's credentials to every host it contacts at that config's host[:port] (looked
up by the contacted host; Docker Hub's under either name): the registry's own server, any mirror's
endpoint there, and, for a registry without a certs.d directory of its own, `_default`'s server, which
has the `*` config's TLS. A TLS client key goes wherever its config's TLS applies. Each of those hosts
is reached with the TLS settings K3s writes for it; we take them from the engine (regui/k3s), for the
saved registries and for the draft, under each agent flag a node may run with.

A transport is weaker when the draft lets an interceptor read what is sent: plain HTTP (an http
endpoint, even one containerd tries with https first: it falls back), skip-verify, or a CA not trusted
before (containerd adds a config's CA to the system's, so a new one is trusted on top). Removing a CA
or turning skip-verify off is not: fewer parties are trusted. A secret that reaches a host for the
first time in this cluster is compared with containerd's default (https, the system's CAs; or a CA it
is verified with in another cluster). Below
admin that is refused unless the user typed every value the secret holds (secret_hosts.py's rule).

A client key on the nodes (a config's `key_file`, or its `cert_file` when there is none: containerd reads
the key from the certificate's file) outside regui's TLS folder is held to the same rule: it is not
sent, but the nodes authenticate with it to whoever answers as the host, and no one typed it. A host
reached with such a file for the first time is compared with what the host's client key on the nodes
had (secret_hosts.py lets a config name only a file its saved config names already), else containerd's
default."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from regui.core.roles import ADMIN, has_role
from regui.k3s import TLS, RegistriesParseError, parse_registries
from regui.k3s.hosts import GenerateResult, HostConfig, RegistryEndpoint, generate_from_registries
from regui.k3s.urls import URLError, is_localhost, normalize_endpoint_address, split_host_port

from .draft import ConfigBox, Draft, Errors
from .models import Cluster, RegistryConfig, Secret
from .render import render_yaml, tls_dir
from .secret_hosts import node_key
from .selectors import draft_secret_ids, draft_spec, secret_id, secrets_by_id
from .snapshots import draft_from_cluster


@dataclass(frozen=True)
class Transport:
    plain: bool  # containerd may send it over plain HTTP
    skip_verify: bool
    cas: frozenset[str]  # CAs trusted on top of the system's: a bundle by its digest, a node's file by path

    def no_weaker_than(self, before: Transport) -> bool:
        if before.plain:
            return True
        if self.plain:
            return False
        return before.skip_verify or (not self.skip_verify and self.cas <= before.cas)


DEFAULT = Transport(plain=False, skip_verify=False, cas=frozenset())


@dataclass(frozen=True)
class Cause:
    """What in the draft made a transport: the endpoint as K3s wrote it, the config whose TLS applies."""

    url: str
    config_key: str | None


# What a host is given: a secret by its id, a client key on the nodes by its file's path (as cleaned).
Held = int | str
# (what is held, host[:port] contacted) -> each transport it travels over, with what made it
Exposures = dict[tuple[Held, str], dict[Transport, Cause]]


class _Reader:
    """One draft's render, and which secret each credential key and client key path is (or which file on
    the nodes)."""

    def __init__(self, draft: Draft, distro: str, written: Mapping[str, str] | None = None) -> None:
        secrets = secrets_by_id(draft_secret_ids(draft))
        spec, files = draft_spec(draft, distro=distro, secrets=secrets, reveal=False)
        self.yaml = render_yaml(spec, redact=True)
        # A CA file regui wrote for the saved registries (`written`) holds that bundle on the nodes until
        # a push removes it (an import of regui's own file names it by its path).
        self.ca_ids = {**(written or {}), **{f.path: "bundle " + hashlib.sha256(f.content()).hexdigest()
                                             for f in files if f.path.endswith("/ca.crt")}}
        self.auth: dict[str, set[int]] = {}
        self.keys: dict[str, set[Held]] = {}
        for c in draft.configs:
            if (sid := secret_id(c.auth)) is not None:
                self.auth.setdefault(c.hostname, set()).add(sid)
            if (sid := secret_id(c.tls_secret)) is not None:
                self.keys.setdefault(f"{tls_dir(distro, c.hostname)}/tls.key", set()).add(sid)
            elif (path := c.key_file or c.cert_file) and (file := node_key(path)) is not None:
                self.keys.setdefault(path, set()).add(file)

    def transport(self, scheme: str, tls: TLS | None) -> Transport:
        if tls is None:
            return Transport(scheme != "https", False, frozenset())
        cas = frozenset({self.ca_ids.get(tls.ca_file, "file " + tls.ca_file)} if tls.ca_file else set())
        return Transport(scheme != "https", tls.insecure_skip_verify, cas)


def _contacts(result: GenerateResult) -> Iterator[tuple[str, str, TLS | None, str, Any]]:
    """(host[:port], scheme, TLS, url, config) of every host containerd may contact, for the hosts whose
    credentials it holds when they have no directory of their own."""
    dirs = result.host_configs
    for hc in dirs.values():
        entries: list[RegistryEndpoint] = list(hc.endpoints)
        if hc.default is not None and hc.default.url is not None and hc.default.url.host:
            entries.append(hc.default)
        for ep in entries:
            if ep.url is not None and ep.url.host:
                yield ep.url.host, ep.url.scheme, ep.config.tls, str(ep.url), ep.config
    for key in result.cri_auth:
        for registry in ("docker.io", key) if key in ("docker.io", "registry-1.docker.io") else (key,):
            if registry != "*" and registry not in dirs:
                yield from _filled_server(registry, dirs.get("_default"))


def _filled_server(registry: str, wild: HostConfig | None) -> Iterator[tuple[str, str, TLS | None, str, Any]]:
    """containerd's own endpoint for `registry`, which `_default`'s `server = ""` (or its TLS alone) stands
    for; nothing when `_default` lists mirrors and no server."""
    if wild is not None and wild.default is None:
        return
    config = wild.default.config if wild is not None and wild.default is not None else None
    tls = config.tls if config is not None else None
    host, scheme = ("registry-1.docker.io" if registry == "docker.io" else registry), "https"
    if is_localhost(registry) and (split_host_port(registry) or ("", ""))[1] not in ("", "443"):
        scheme = "http"  # containerd's default for a loopback registry on another port
    yield host, scheme, tls, f"{scheme}://{host}/v2", config


def exposures(reader: _Reader, distro: str) -> Exposures:
    out: Exposures = {}
    if not reader.auth and not reader.keys:
        return out  # no secret to expose: the engine need not run (4 times, ~0.1 s each on a large file)
    try:  # parsed once for the four renders below (the parse is most of each on a large file)
        parsed = parse_registries(reader.yaml)
    except RegistriesParseError:
        return out
    # A node may run with flags of its own (its setting, its K3s config file): a host reached under any counts.
    for no_default in (False, True):
        for embedded in (False, True):
            result = generate_from_registries(parsed, distro, no_default, embedded)
            if result.parse_error or result.registries is None:
                continue
            key_of = {id(cfg): key for key, cfg in result.registries.configs.items()}
            for host, scheme, tls, url, config in _contacts(result):
                auth_key = host if host in result.cri_auth else (
                    "docker.io" if host == "registry-1.docker.io" and "docker.io" in result.cri_auth else None)
                sids: set[Held] = set(reader.auth.get(auth_key, set())) if auth_key is not None else set()
                if tls is not None and (key := tls.key_file or tls.cert_file):
                    sids |= reader.keys.get(key, set())
                transport = reader.transport(scheme, tls)
                for sid in sids:
                    out.setdefault((sid, host), {}).setdefault(transport, Cause(url, key_of.get(id(config))))
    return out


def _slot(draft: Draft, cause: Cause, weak: Transport, before: set[Transport]) -> str:
    """The field that made the transport weaker: the http endpoint, or the config's TLS box."""
    if weak.plain:
        for m in draft.mirrors:
            for e in m.endpoints:
                if e.url and _same_endpoint(e.url, cause.url):
                    return f"{e.token}-url"
    box: ConfigBox | None = next((c for c in draft.configs if c.hostname == cause.config_key), None)
    if box is None:
        return "__all__"
    if weak.plain:
        return f"{box.token}-hostname"
    if weak.skip_verify and not any(b.skip_verify for b in before):
        return f"{box.token}-insecure_skip_verify"
    return f"{box.token}-ca_file" if box.ca_file and not box.ca_bundle else f"{box.token}-ca_bundle"


def _same_endpoint(written: str, url: str) -> bool:
    try:
        return str(normalize_endpoint_address(written).url) == url
    except URLError:
        return False


def weakened_transport_errors(draft: Draft, cluster: Cluster, user: Any,
                              stand_ins: Mapping[int, int | None] | None = None) -> Errors:
    """The boxes that would send a secret `user` did not type, or let the nodes present a client key of
    theirs, over a weaker transport than now (than the saved secret's it replaces, for a new one in
    `stand_ins`: new id -> saved id, None: as the draft has it)."""
    if user is None or has_role(user, ADMIN):
        return {}
    ids = {sid for value in draft_secret_ids(draft) if (sid := secret_id(value)) is not None}
    names = Secret.objects.only("id", "name", "typed_by").in_bulk(ids) if ids else {}
    if (all(s.typed_by and s.typed_by == user.get_username() for s in names.values())
            and not any((p := c.key_file or c.cert_file) and node_key(p) for c in draft.configs)):
        return {}  # nothing this user did not type: no render of the saved or the new file is needed
    saved = _Reader(draft_from_cluster(cluster), cluster.distro)  # read once: its CA files, and before
    after = exposures(_Reader(draft, cluster.distro, saved.ca_ids), cluster.distro)
    if not after:
        return {}
    before = exposures(saved, cluster.distro)
    elsewhere: dict[int, Exposures] = {}
    errors: Errors = {}
    stand = stand_ins or {}
    for (held, host), transports in after.items():
        if isinstance(held, str):  # a client key on the nodes: no one typed it
            what = f"the client key {held}"
            was = set(before.get((held, host), {})) or _host_key_had(before, host)
        else:
            secret = names.get(held)
            if secret is None or (held in stand and stand[held] is None) or (
                    secret.typed_by and secret.typed_by == user.get_username()):
                continue
            what, was_id = f"secret “{secret.name}”", stand.get(held) or held
            was = set(before.get((was_id, host), {})) or _new_here(was_id, host, cluster, elsewhere)
        for transport, cause in transports.items():
            if any(transport.no_weaker_than(b) for b in was):
                continue
            message = _message(what, host, transport, was, client_key=isinstance(held, str))
            slot = _slot(draft, cause, transport, was)
            if message not in errors.get(slot, []):
                errors.setdefault(slot, []).append(message)
    return errors


def _message(what: str, host: str, weak: Transport, before: set[Transport], *, client_key: bool) -> str:
    """`what`: secret “name”, or (`client_key`) the client key /path (on the nodes: not sent, but presented to
    the host)."""
    gets, harm = ((f"the nodes present it {what}", "have the nodes authenticate to it") if client_key
                  else (f"it receives {what}", "read it"))
    ask = " Ask an admin, or " + ("choose a TLS Secret instead." if client_key else "retype this registry's credentials.")
    if weak.plain:
        head = (f"let the nodes reach {host} over plain HTTP while they present it {what}: anyone on the network "
                f"path could pose as {host} to them" if client_key else
                f"send {what} to {host} over plain HTTP: anyone on the network path would read it")
        return f"Only an admin can {head}. Use an https endpoint.{ask}"
    if weak.skip_verify and not any(b.skip_verify for b in before):
        return (f"Only an admin can turn off certificate checks for {host} while {gets}: anyone on the network "
                f"path could pose as {host} and {harm}.{ask}")
    return (f"Only an admin can make {host} trust another CA while {gets}: whoever holds that CA could pose as "
            f"{host} and {harm}.{ask}")


def exposures_of_saved(cluster: Cluster) -> Exposures:
    return exposures(_Reader(draft_from_cluster(cluster), cluster.distro), cluster.distro)


def _host_key_had(before: Exposures, host: str) -> set[Transport]:
    """What a client key on the nodes reaching `host` from another file is held to: what the host's saved
    client key on the nodes had (the saved config names that file too), or containerd's default."""
    return {t for (held, h), ts in before.items() if h == host and isinstance(held, str) for t in ts} or {DEFAULT}


def _new_here(sid: int, host: str, cluster: Cluster, elsewhere: dict[int, Exposures]) -> set[Transport]:
    """What a secret reaching `host` for the first time in `cluster` is held to: containerd's default,
    or a CA it is verified with there in another cluster (the same CA is no new party). Never another
    cluster's skip-verify or plain HTTP: that says nothing of this cluster's network path."""
    was = {DEFAULT}
    others = Cluster.objects.filter(pk__in=RegistryConfig.objects.filter(Q(auth_secret_id=sid) | Q(tls_secret_id=sid))
                                    .exclude(cluster_id=cluster.pk).values("cluster_id"))
    for other in others:
        if other.pk not in elsewhere:
            elsewhere[other.pk] = exposures_of_saved(other)
        was |= {Transport(False, False, t.cas) for t in elsewhere[other.pk].get((sid, host), {})}
    return was
