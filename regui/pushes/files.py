"""What a push writes: the rendered registries.yaml and the TLS material regui owns."""

from __future__ import annotations

import hashlib
import posixpath

from regui.k3s import RegistriesParseError, parse_registries
from regui.k3s.hosts import generate_from_registries
from regui.k3s.linter import lint_registries
from regui.registries.models import Cluster
from regui.registries.render import tls_dir
from regui.registries.selectors import (
    cluster_foreign_secrets,
    cluster_render,
    keyed_payload,
    nodes_engine_flags,
)
from regui.remote.script import RemoteFile


class PushFiles(list[RemoteFile]):
    """The files of one render, with its sync key (core/fingerprints.py): what a node that gets them
    holds, by the identities of the secret values in them."""

    sync_key: str = ""
    # A re-read's files that the interrupted push it follows was writing (rolling._run_chunk).
    origin_wrote: bool = False


def files_key(files: list[RemoteFile]) -> str:
    return getattr(files, "sync_key", "")


class RenderRefused(Exception):
    """The render must not reach a node (K3s would refuse it, or it is empty or invalid)."""


def cluster_files(cluster: Cluster, *, check: bool = False, checked: str = "") -> list[RemoteFile]:
    """registries.yaml first, then the CA bundles and client certificates it refers to.
    `check` refuses (RenderRefused) what must not be pushed, judged on the redacted render so that
    no message can quote a secret; `checked`: the render_digest of a redacted render known to pass,
    which then needs no second look. A file naming a secret the cluster may not use is never built."""
    _check_secrets(cluster)
    redacted, text, tls, key = keyed_payload(cluster)
    if check and render_digest(redacted) != checked:
        _check(cluster, redacted)
    files = PushFiles([RemoteFile(cluster.registries_path, text.encode(), dir_mode="0755"),
                       *(RemoteFile(f.path, f.content()) for f in tls)])
    files.sync_key = key
    return files


def owned_tls_dir(cluster: Cluster) -> str:
    """The folder every registry's own TLS folder is made in: a push removes from it the files regui
    wrote there earlier and no longer names (see regui/remote/script.py), and never anything else."""
    return posixpath.dirname(tls_dir(cluster.distro, "*"))


def render_digest(redacted: str) -> str:
    """Names a redacted render (which holds no secret value), so that a job's chunks know the render
    they make is the one checked when the job was created."""
    return hashlib.sha256(redacted.encode()).hexdigest()


def check_render(cluster: Cluster) -> str:
    """The redacted render, once it is known to be safe to push; else RenderRefused with why."""
    _check_secrets(cluster)
    return _check(cluster, cluster_render(cluster))


def _check_secrets(cluster: Cluster) -> None:
    # The saves refuse this already; checked again here, where values would leave regui.
    if foreign := cluster_foreign_secrets(cluster):
        raise RenderRefused(f"The registries use secret(s) {', '.join(foreign)} that belong to another cluster "
                            "and are not shared with this one: nothing is sent. An admin can share them, or "
                            "choose this cluster's own secrets.")


def _check(cluster: Cluster, text: str) -> str:
    if not cluster.mirrors.exists() and not cluster.configs.exists():
        raise RenderRefused("The cluster has no mirrors and no registry authentication: an empty file is never "
                            "pushed (it would silently drop whatever the nodes have).")
    # Parsed once for both looks (as the insight tabs do): a push's click waits for this check.
    try:
        registries = parse_registries(text)
    except RegistriesParseError as exc:
        raise RenderRefused(f"{cluster.distro} would refuse this file: {exc.message}") from None
    result = generate_from_registries(registries, cluster.distro)
    if result.parse_error:
        raise RenderRefused(f"{cluster.distro} would refuse this file: {result.parse_error}")
    flags = nodes_engine_flags(cluster)  # the hosts.toml files the nodes write, as they run K3s
    errors = [f for f in lint_registries(registries, cluster.distro, flags) if f.severity == "error"]
    if errors:
        raise RenderRefused("Lint errors must be fixed before a push: " + "; ".join(f.message for f in errors))
    return text
