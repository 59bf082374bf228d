"""Which endpoints a registry test tries, in which order, with which credentials and TLS.

The engine's explanation of a pull (regui/k3s/explain.py: the hosts.toml K3s writes, read back the
way containerd reads it) of the saved configuration, so a test follows exactly what K3s configures.
No Django: the caller brings the generated result, and (in the worker only) the credentials and the
TLS material; the web request plans with the redacted render and never sees a value.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from regui.k3s.explain import Attempt, explain_from_result
from regui.k3s.gostrings import clean_path
from regui.k3s.hosts import GenerateResult, embedded_registry_addresses
from regui.k3s.urls import URLError, is_localhost, split_host_port_lenient
from regui.k3s.urls import parse as go_parse
from regui.remote.registry_http import FAILED, WARNING, Step
from regui.remote.registry_probe import SKIPPED, Credentials, Report, Target
from regui.remote.registry_tls import TLSMaterial

# Names a repository when no image is given: the endpoints and their roots do not depend on it.
PLACEHOLDER = "regui/registry-test:latest"


class Material(Protocol):
    """A TLS file regui owns (registries.selectors.TLSFile): where it goes on a node, and its bytes."""

    @property
    def description(self) -> str: ...

    @property
    def content(self) -> Callable[[], bytes]: ...


@dataclass(frozen=True)
class Endpoint:
    position: int  # 1-based, in pull order
    role: str  # "mirror" | "server"
    key: str  # the API root tried first: what a one-endpoint test names
    roots: tuple[str, ...]  # https then http when containerd upgrades an http host with TLS options
    manifest: str  # path?query of the image's manifest on this endpoint; "" without an image
    repository: str  # as this endpoint is asked for it (after a rewrite)
    auth_key: str | None
    ca: tuple[str, ...]
    client: tuple[tuple[str, ...], ...]
    skip_verify: bool
    notes: tuple[str, ...] = ()
    on_node_only: bool = False  # the embedded registry: each node serves itself

    @property
    def label(self) -> str:
        return f"{self.position}. {self.role} {self.key}"


@dataclass
class Plan:
    registry: str
    image: str = ""  # the image whose manifest is resolved (as the engine names it); "" for none
    endpoints: list[Endpoint] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""


def registry_names(result: GenerateResult) -> list[str]:
    """The registries a test may name: mirrors, then registry configs, as saved (not the `*` ones,
    which apply to any registry; test one by its name)."""
    reg = result.registries
    if reg is None:
        return []
    return [n for n in dict.fromkeys([*reg.mirrors, *reg.configs]) if n != "*"]


def full_image(registry: str, image: str) -> str:
    """`library/nginx:1.27` typed for `docker.io` -> `docker.io/library/nginx:1.27` (a typed
    registry prefix is accepted too)."""
    image = image.strip()
    if not image:
        return f"{registry}/{PLACEHOLDER}"
    return image if image.startswith(registry + "/") else f"{registry}/{image}"


def _root_path(a: Attempt) -> str:
    """containerd's path for a host (`parseHostConfig`): the server's path ending in /v2, unless
    override_path keeps it as written."""
    if not a.host_url:
        return "/v2"
    raw = a.host_url if a.host_url.startswith("http") else "https://" + a.host_url
    try:
        path = go_parse(raw).path
    except URLError:
        return "/v2"
    if not path:
        return "" if a.override_path else "/v2"
    path = clean_path(path)
    return path if path.endswith("/v2") or a.override_path else path + "/v2"


def _endpoint(position: int, a: Attempt, with_image: bool, program: str) -> Endpoint:
    parts = urllib.parse.urlsplit(a.urls[0])
    root = f"{parts.scheme}://{parts.netloc}{_root_path(a)}"
    roots: tuple[str, ...] = (root,)
    if a.https_first:
        roots = ("https://" + root.removeprefix("http://"), root)
    repository = parts.path
    if "/manifests/" in repository:
        repository = repository.rsplit("/manifests/", 1)[0][len(_root_path(a)):].strip("/")
    notes = []
    if len(a.urls) > 1:
        notes.append(f"Go's random map order decides which rewrite applies: {len(a.urls)} URLs are possible, "
                     "this test asks for the first")
    host = split_host_port_lenient(parts.netloc)[0]
    on_node = parts.netloc in embedded_registry_addresses(program)
    if is_localhost(host) and not on_node:
        notes.append(f"{parts.netloc} is the node itself on a node; from the worker it is the worker's host")
    return Endpoint(
        position=position, role=a.role, key=roots[0], roots=roots,
        manifest=(parts.path + (f"?{parts.query}" if parts.query else "")) if with_image else "",
        repository=repository, auth_key=a.auth_key, ca=tuple(a.tls.ca),
        client=tuple(tuple(pair) for pair in a.tls.client), skip_verify=a.tls.skip_verify,
        notes=tuple(notes), on_node_only=on_node)


def make_plan(result: GenerateResult, registry: str, image: str = "", endpoint: str = "") -> Plan:
    """The endpoints a pull from `registry` tries, in order (only `endpoint`'s when given)."""
    plan = Plan(registry=registry)
    if result.parse_error:
        plan.error = f"{result.program} would refuse the saved registries.yaml: {result.parse_error}"
        return plan
    pull = explain_from_result(result, full_image(registry, image))
    if pull.error:
        plan.error = f"{image.strip() or registry}: {pull.error}"
        return plan
    if pull.registry != registry:
        plan.error = (f"{image.strip()} is not an image of {registry}: containerd pulls it from {pull.registry}"
                      if image.strip() else f"{registry} cannot be named as a registry in an image reference")
        return plan
    plan.image = (pull.image or "") if image.strip() else ""
    plan.notes = list(pull.notes)
    if pull.hosts_dir is None:
        plan.notes.append(f"No hosts.toml applies to {registry}: containerd uses its default endpoint only.")
    endpoints = [_endpoint(i, a, bool(plan.image), result.program) for i, a in enumerate(pull.attempts, 1)]
    if endpoint:
        endpoints = [e for e in endpoints if e.key == endpoint]
        if not endpoints:
            plan.error = f"{endpoint} is not an endpoint a pull from {registry} tries in the saved configuration."
    plan.endpoints = endpoints
    return plan


# -- words for the page (no values) ------------------------------------------------------------------
def auth_words(e: Endpoint, secret_names: Mapping[str, str]) -> str:
    if e.auth_key is None:
        return "none"
    name = secret_names.get(e.auth_key)
    return f'configs["{e.auth_key}"]' + (f" (secret {name})" if name else "")


def tls_words(e: Endpoint, owned: Mapping[str, str]) -> str:
    """`owned`: description of each TLS file regui writes, by its path on the nodes."""
    if not e.roots[0].startswith("https:"):
        return "plain HTTP"
    words = [owned.get(p, f"CA file {p} (on the nodes)") for p in e.ca]
    words += [owned.get(pair[0], f"client certificate {pair[0]} (on the nodes)") for pair in e.client if pair]
    if e.skip_verify:
        words.append("certificates not verified (skip verify)")
    return ", ".join(words) or "the system CAs"


# -- what the worker probes (values: never stored, never shown) ---------------------------------------
def credentials(key: str | None, cri_auth: Mapping[str, Mapping[str, str]],
                secret_names: Mapping[str, str]) -> tuple[Credentials | None, str]:
    """containerd's `ParseAuth` of a config's auth block: (credentials, "") or (None, why none can be used)."""
    if key is None:
        return None, ""
    entry = cri_auth.get(key) or {}
    name = secret_names.get(key)
    about = ", ".join(filter(None, [f"secret {name}" if name else "",
                                    f"user {entry['username']}" if entry.get("username") else ""]))
    label = f'configs["{key}"]' + (f" ({about})" if about else "")
    if entry.get("username"):
        return Credentials(entry["username"], entry.get("password", ""), label), ""
    if entry.get("identitytoken"):
        return Credentials("", entry["identitytoken"], label), ""
    if entry.get("auth"):
        try:
            user, sep, password = base64.b64decode(entry["auth"], validate=True).decode().partition(":")
        except (binascii.Error, ValueError):
            sep = ""
        if not sep:
            return None, (f"the auth string of {label} is not the base64 of user:password: containerd refuses "
                          "it, so every request to this host fails")
        return Credentials(user, password.strip("\0"), label), ""
    return None, ""  # `auth: {}`: anonymous, as containerd


def tls_material(e: Endpoint, files: Mapping[str, Material]) -> tuple[TLSMaterial, list[str]]:
    """The endpoint's TLS material from the files regui writes, and notes on what only the nodes have."""
    notes, cas, ca_labels = [], [], []
    for path in e.ca:
        f = files.get(path)
        if f is None:
            notes.append(f"The CA file {path} is on the nodes only (not written by regui): this test cannot read "
                         "it and trusts the system CAs without it.")
            continue
        cas.append(f.content().decode("utf-8", "replace").strip())
        ca_labels.append(f"the {f.description}")
    cert = key = label = ""
    for pair in e.client[:1]:
        cert_file, key_file = files.get(pair[0]), files.get(pair[1] if len(pair) > 1 else "")
        if cert_file is None or key_file is None:
            notes.append(f"The client certificate {' and key '.join(pair)} is on the nodes only (not written by "
                         "regui): this test sends none.")
            continue
        cert, key = cert_file.content().decode("utf-8", "replace"), key_file.content().decode("utf-8", "replace")
        label = cert_file.description.removeprefix("certificate of ")
    return TLSMaterial(ca_pem="\n".join(cas), ca_label=" and ".join(ca_labels), client_cert_pem=cert,
                       client_key_pem=key, client_label=label, skip_verify=e.skip_verify), notes


@dataclass
class Probe:
    """One endpoint, ready: a target to probe, or a report already (nothing to try); notes go first."""

    endpoint: Endpoint
    target: Target | None
    report: Report | None
    notes: list[str]


def probes(plan: Plan, cri_auth: Mapping[str, Mapping[str, str]], files: Mapping[str, Material],
           secret_names: Mapping[str, str]) -> list[Probe]:
    out = []
    for e in plan.endpoints:
        notes = list(e.notes)
        if e.on_node_only:
            text = (f"not tried: {e.key} is the embedded registry (Spegel) each node runs for itself; the worker "
                    "cannot reach it")
            out.append(Probe(e, None, Report(e.label, e.key, SKIPPED, text), notes))
            continue
        creds, problem = credentials(e.auth_key, cri_auth, secret_names)
        if problem:
            out.append(Probe(e, None, Report(e.label, e.key, FAILED, problem, [Step("auth", FAILED, problem)]), notes))
            continue
        tls, tls_notes = tls_material(e, files)
        target = Target(label=e.label, roots=e.roots, manifest=e.manifest, repository=e.repository,
                        credentials=creds, tls=tls)
        out.append(Probe(e, target, None, notes + tls_notes))
    return out


def with_notes(report: Report, notes: list[str]) -> Report:
    report.steps[:0] = [Step("note", WARNING, n) for n in notes]
    return report
