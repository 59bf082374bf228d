"""Image reference normalisation as the CRI does it (distribution/reference ``ParseDockerRef``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ALNUM = r"[a-z0-9]+"
_SEP = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEP}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*)|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)
_HEX64 = re.compile(r"[a-f0-9]{64}")
_DIGEST_LEN = {"sha256": 64, "sha384": 96, "sha512": 128}


class ReferenceError(ValueError):
    pass


@dataclass(frozen=True)
class ImageRef:
    registry: str  # "docker.io", "quay.io", "localhost:5000"
    repository: str  # path inside the registry, "library/nginx"
    tag: str | None
    digest: str | None

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest wins over the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        name = f"{self.registry}/{self.repository}"
        return name + (f"@{self.digest}" if self.digest else f":{self.tag}")


def _split_docker_domain(name: str) -> tuple[str, str]:
    i = name.find("/")
    first = name[:i] if i >= 0 else ""
    if i == -1 or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, rest = "docker.io", name
    else:
        domain, rest = first, name[i + 1:]
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in rest:
        rest = "library/" + rest
    return domain, rest


def parse_image(ref: object) -> ImageRef:
    """Normalise ``nginx:1.27`` to docker.io / library/nginx / 1.27; raise ReferenceError."""
    if not isinstance(ref, str):
        raise ReferenceError("image reference must be a string")
    if _HEX64.fullmatch(ref):
        raise ReferenceError(f"invalid repository name ({ref}), cannot specify 64-byte hexadecimal strings")
    domain, rest = _split_docker_domain(ref)
    remote_name = rest.split(":", 1)[0]
    if remote_name.lower() != remote_name:
        raise ReferenceError(f"invalid reference format: repository name ({remote_name}) must be lowercase")
    full = f"{domain}/{rest}"
    m = _REFERENCE.fullmatch(full)
    if m is None:
        if not ref:
            raise ReferenceError("invalid reference format: repository name must have at least one component")
        raise ReferenceError("invalid reference format")
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    if len(name) > 255:
        raise ReferenceError("invalid reference format: repository name must not be more than 255 characters")
    if digest is not None:
        algo, _, hexpart = digest.partition(":")
        if algo not in _DIGEST_LEN:
            raise ReferenceError("unsupported digest algorithm")
        if len(hexpart) != _DIGEST_LEN[algo] or not re.fullmatch(r"[a-f0-9]+", hexpart):
            raise ReferenceError("invalid checksum digest format")
        tag = None  # the CRI pulls by digest and drops the tag
    elif tag is None:
        tag = "latest"
    repo = name[len(domain) + 1:]
    return ImageRef(domain, repo, tag, digest)

