"""What K3s will make of the page's draft: hosts.toml, a pull explained, lint findings linked to
the fields they are about. Pure Python (no Django): the engine does the work, this maps it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from regui.k3s import explain_pull, generate_hosts, lint
from regui.k3s.explain import PullExplanation
from regui.k3s.hosts import GenerateResult
from regui.k3s.linter import Finding

from .draft import AUTH_NONE, Draft

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class LinkedFinding:
    finding: Finding
    slot: str | None  # `<token>-<field>`: the input's id on the page

    @property
    def where(self) -> str:
        return " › ".join(str(p) for p in self.finding.path)


@dataclass
class Insight:
    hosts: GenerateResult
    findings: list[LinkedFinding]
    pull: PullExplanation | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _config_slot(box, rest: tuple[Any, ...]) -> str:
    if not rest:
        return f"{box.token}-hostname"
    if rest[0] == "auth":
        return f"{box.token}-auth" if box.auth != AUTH_NONE else f"{box.token}-hostname"
    if rest[0] == "tls":
        name = rest[1] if len(rest) > 1 else None
        if name == "ca_file":
            return f"{box.token}-ca_bundle" if box.ca_bundle else f"{box.token}-ca_file"
        if name in ("cert_file", "key_file"):
            return f"{box.token}-tls_secret" if box.tls_secret else f"{box.token}-{name}"
        if box.tls_secret:
            return f"{box.token}-tls_secret"
        return f"{box.token}-ca_bundle"
    return f"{box.token}-hostname"


def finding_slot(path: tuple[Any, ...], draft: Draft) -> str | None:
    """The field a finding is about, for a draft whose blank boxes were already dropped."""
    if len(path) < 2:
        return None
    section, host, rest = path[0], path[1], tuple(path[2:])
    if section == "mirrors":
        box = next((m for m in draft.mirrors if m.hostname == host), None)
        if box is None:
            return None
        if rest[:1] == ("endpoint",) and len(rest) > 1 and isinstance(rest[1], int) and rest[1] < len(box.endpoints):
            return f"{box.endpoints[rest[1]].token}-url"
        if rest[:1] == ("rewrite",) and len(rest) > 1:
            row = next((r for r in box.rewrites if r.pattern == rest[1]), None)
            return f"{row.token}-pattern" if row else None
        return f"{box.token}-hostname"
    if section == "configs":
        config = next((c for c in draft.configs if c.hostname == host), None)
        return _config_slot(config, rest) if config else None
    return None


def draft_insight(
    yaml_text: str, draft: Draft, *, program: str, disable_default: bool = False, embedded: bool = False,
    image: str = "",
) -> Insight:
    hosts = generate_hosts(yaml_text, program=program, disable_default_endpoint=disable_default,
                           embedded_registry=embedded)
    linked = [LinkedFinding(f, finding_slot(f.path, draft)) for f in lint(yaml_text, program=program)]
    linked.sort(key=lambda lf: SEVERITY_ORDER.get(lf.finding.severity, 3))
    pull = None
    if image.strip():
        pull = explain_pull(yaml_text, image.strip(), program=program, disable_default_endpoint=disable_default,
                            embedded_registry=embedded)
    counts = {s: sum(1 for lf in linked if lf.finding.severity == s) for s in SEVERITY_ORDER}
    return Insight(hosts=hosts, findings=linked, pull=pull, counts=counts)


def lint_errors_by_slot(yaml_text: str, draft: Draft, *, program: str) -> dict[str, list[str]]:
    """Lint errors as form errors; findings about no particular field go under `__all__`."""
    errors: dict[str, list[str]] = {}
    for f in lint(yaml_text, program=program):
        if f.severity != "error":
            continue
        slot = finding_slot(f.path, draft) or "__all__"
        errors.setdefault(slot, []).append(f"{f.message} {f.hint}".strip())
    return errors
