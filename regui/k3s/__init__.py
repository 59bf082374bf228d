"""Pure-Python model of how K3s/RKE2 turn registries.yaml into containerd configuration.

No Django here: the dashboard, the importer and the tests all use this package directly.
"""

from __future__ import annotations

from .explain import Attempt, PullExplanation, explain_pull
from .hosts import GenerateResult, generate_hosts
from .linter import Finding, lint
from .model import TLS, Auth, Mirror, Registries, RegistriesParseError, RegistryConfig
from .parse import parse_registries

__all__ = [
    "TLS",
    "Attempt",
    "Auth",
    "Finding",
    "GenerateResult",
    "Mirror",
    "PullExplanation",
    "Registries",
    "RegistriesParseError",
    "RegistryConfig",
    "explain_pull",
    "generate_hosts",
    "lint",
    "parse_registries",
]
