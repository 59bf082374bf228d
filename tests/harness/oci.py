"""A tiny, reproducible OCI image layout written with the standard library only.

One gzip layer holding one small file, a config for the host platform, an OCI manifest and an
``index.json`` naming the tag. The same inputs always give the same bytes (mtime 0, fixed
owner, sorted JSON), so the manifest digest is stable for a given architecture.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import tarfile
from dataclasses import dataclass
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
           "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def host_goarch() -> str:
    """The architecture containerd picks by default for this machine (Go's GOARCH names)."""
    machine = platform.machine().lower()
    return _GOARCH.get(machine, machine)


@dataclass(frozen=True)
class Blob:
    media_type: str
    digest: str
    size: int

    def descriptor(self) -> dict:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class OCILayout:
    path: Path
    tag: str
    manifest: Blob
    config: Blob
    layer: Blob

    @property
    def skopeo_ref(self) -> str:
        """``oci:DIR:TAG`` for ``skopeo copy``."""
        return f"oci:{self.path}:{self.tag}"


def _json(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _tar_one_file(name: str, content: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def _put(blobs: Path, media_type: str, data: bytes) -> Blob:
    hexdigest = hashlib.sha256(data).hexdigest()
    (blobs / hexdigest).write_bytes(data)
    return Blob(media_type, f"sha256:{hexdigest}", len(data))


def write_tiny_image(dest: Path, tag: str = "v1", arch: str | None = None,
                     content: bytes = b"hello from the regui test harness\n") -> OCILayout:
    """Write an OCI image layout for a one-file image to ``dest`` (created if missing)."""
    dest = Path(dest)
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    tar = _tar_one_file("hello.txt", content)
    layer = _put(blobs, OCI_LAYER_GZIP, _gzip(tar))
    config = _put(blobs, OCI_CONFIG, _json({
        "architecture": arch or host_goarch(),
        "os": "linux",
        "config": {"Cmd": ["/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(tar).hexdigest()}"]},
    }))
    manifest = _put(blobs, OCI_MANIFEST, _json({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
    }))
    (dest / "oci-layout").write_bytes(_json({"imageLayoutVersion": "1.0.0"}))
    (dest / "index.json").write_bytes(_json({
        "schemaVersion": 2,
        "manifests": [{**manifest.descriptor(), "annotations": {"org.opencontainers.image.ref.name": tag}}],
    }))
    return OCILayout(dest, tag, manifest, config, layer)
