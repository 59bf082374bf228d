"""What an export holds, and what it only names.

registries.yaml refers to TLS files by path. Those regui manages (a CA Cert Bundle, a TLS secret's
certificate and key) are written by a push beside the file, at the paths the render names; those
typed as paths ("Files already on the nodes", or imported) live on the nodes and regui has none of
them. The export says which is which, and the tar holds the file with regui's own TLS files.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from dataclasses import dataclass

from .models import Cluster
from .render import render_yaml
from .selectors import TLSFile, draft_from_cluster, draft_secret_ids, draft_spec, secrets_by_id

TLS_FIELDS = ("ca_file", "cert_file", "key_file")
FILE_MODE = 0o600  # what a push writes: the file and the keys hold secret values


@dataclass(frozen=True)
class NodeFile:
    """A path the file names that regui does not have: it must already be on the nodes."""

    host: str
    field: str
    path: str


@dataclass
class ExportContents:
    cluster: Cluster
    text: str  # registries.yaml, redacted unless asked otherwise
    managed: list[TLSFile]  # regui's own TLS files, pushed beside it
    on_nodes: list[NodeFile]


def export_contents(cluster: Cluster, *, reveal: bool = False) -> ExportContents:
    draft = draft_from_cluster(cluster)
    spec, files = draft_spec(draft, distro=cluster.distro, secrets=secrets_by_id(draft_secret_ids(draft)),
                             reveal=reveal)
    managed = {f.path for f in files}
    on_nodes = [NodeFile(c.host, name, getattr(c.tls, name)) for c in spec.configs if c.tls is not None
                for name in TLS_FIELDS if getattr(c.tls, name) and getattr(c.tls, name) not in managed]
    return ExportContents(cluster, render_yaml(spec, redact=not reveal), files, on_nodes)


def export_notes(contents: ExportContents) -> list[str]:
    """What the file names but does not contain, one line each (empty when it names no file)."""
    out = []
    for f in contents.on_nodes:
        out.append(f"configs.{f.host}.tls.{f.field}: {f.path} is not in the export: a file already on the "
                   "nodes, which regui neither keeps nor pushes.")
    for t in contents.managed:
        out.append(f"{t.path} ({t.description}) is not in registries.yaml: regui pushes it beside the file; "
                   "the .tar export holds it.")
    return out


def _member(name: str, content: bytes, mtime: int) -> tuple[tarfile.TarInfo, io.BytesIO]:
    name = posixpath.normpath(name.lstrip("/"))
    if name == ".." or name.startswith("../"):  # a host name cannot hold "/", but an import is not checked
        raise ValueError(f"{name} is not a path under /")
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(content), FILE_MODE, mtime
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info, io.BytesIO(content)


def export_tar(cluster: Cluster) -> tuple[bytes, list[str]]:
    """registries.yaml and regui's TLS files, each at its path on a node (relative to /, 0600, root:
    `tar -xpf FILE -C /` on a node writes what a push writes). Holds secret values. Files only, no
    directory entries, so extracting never changes the modes of /etc or /var."""
    contents = export_contents(cluster, reveal=True)
    mtime = int(cluster.updated_at.timestamp())
    buffer = io.BytesIO()
    names = []
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        files = [(cluster.registries_path, contents.text.encode())] + [(f.path, f.content()) for f in contents.managed]
        for path, content in files:
            info, data = _member(path, content, mtime)
            tar.addfile(info, data)
            names.append(info.name)
    return buffer.getvalue(), names
