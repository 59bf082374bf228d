"""The decoded registries.yaml (wharfie ``registries.Registry`` and friends)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class RegistriesParseError(ValueError):
    """The file K3s would refuse to load (the agent then loops, never starting containerd)."""

    def __init__(self, message: str, line: int | None = None, unquoted: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        # The message without the values K3s quotes (`pw-9sec`): for a file whose reader did not write it,
        # where such a value may be a credential.
        self.unquoted = unquoted or message


@dataclass
class Auth:
    username: str = ""
    password: str = ""
    auth: str = ""
    identity_token: str = ""


@dataclass
class TLS:
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure_skip_verify: bool = False


@dataclass
class RegistryConfig:
    auth: Auth | None = None
    tls: TLS | None = None


@dataclass
class Mirror:
    endpoints: list[str] = field(default_factory=list)
    rewrites: dict[str, str] = field(default_factory=dict)


@dataclass
class Registries:
    mirrors: dict[str, Mirror] = field(default_factory=dict)
    configs: dict[str, RegistryConfig] = field(default_factory=dict)
    auths: dict[str, Auth] = field(default_factory=dict)  # K3s decodes and ignores them
    ignored_keys: list[str] = field(default_factory=list)
    ignored_paths: list[tuple[str, ...]] = field(default_factory=list)
    # 1-based line of each decoded value, keyed like lint paths ("mirrors", name, "endpoint", 0)
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)
    # A mirrors/configs name not written as text (an alias, a tag, a block scalar): its line and how
    # (yamltags.written_as). It may stand for any value of the file, a credential too.
    name_forms: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    # Endpoint normalisations already made for this file (urls.normalized): lint and the hosts.toml
    # generations ask for the same ones several times.
    memo: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False, compare=False)
