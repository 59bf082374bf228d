"""What K3s will make of the page's draft: hosts.toml, a pull explained, lint findings linked to
the fields they are about. Pure Python (no Django): the engine does the work, this maps it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from regui.k3s import RegistriesParseError, generate_hosts, lint, parse_registries
from regui.k3s.explain import PullExplanation, explain_from_result
from regui.k3s.hosts import GenerateResult, generate_from_registries
from regui.k3s.linter import Finding, Flags, lint_registries

from .draft import AUTH_NONE, ConfigBox, Draft, MirrorBox, RewriteRow, draft_limits
from .validation import ca_bundle_without_ca

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
    refused: str = ""  # the draft is beyond regui's limits: why, instead of the three tabs


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


class _Slots:
    """Where each finding's field is on the page: built once per draft, so that many findings
    (a mirror's overlapping rewrites can make hundreds) cost a lookup each, not a scan."""

    def __init__(self, draft: Draft) -> None:
        self.mirrors: dict[str, MirrorBox] = {}
        self.rewrites: dict[tuple[str, str], RewriteRow] = {}
        self.configs: dict[str, ConfigBox] = {}
        for m in draft.mirrors:
            self.mirrors.setdefault(m.hostname, m)
            for r in m.rewrites:
                self.rewrites.setdefault((m.token, r.pattern), r)
        for c in draft.configs:
            self.configs.setdefault(c.hostname, c)

    def slot(self, path: tuple[Any, ...]) -> str | None:
        if len(path) < 2:
            return None
        section, host, rest = path[0], path[1], tuple(path[2:])
        if section == "mirrors":
            box = self.mirrors.get(host)
            if box is None:
                return None
            if rest[:1] == ("endpoint",) and len(rest) > 1 and isinstance(rest[1], int) and rest[1] < len(box.endpoints):
                return f"{box.endpoints[rest[1]].token}-url"
            if rest[:1] == ("rewrite",) and len(rest) > 1:
                row = self.rewrites.get((box.token, rest[1]))
                return f"{row.token}-pattern" if row else None
            return f"{box.token}-hostname"
        if section == "configs":
            config = self.configs.get(host)
            return _config_slot(config, rest) if config else None
        return None


def finding_slot(path: tuple[Any, ...], draft: Draft) -> str | None:
    """The field a finding is about, for a draft whose blank boxes were already dropped."""
    return _Slots(draft).slot(path)


def refused_insight(draft: Draft, program: str) -> Insight | None:
    """The tabs' answer for a draft beyond regui's limits: what is over them, and no engine work."""
    errors = draft_limits(draft)
    if not errors:
        return None
    reasons = list(dict.fromkeys(m for messages in errors.values() for m in messages))
    more = f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""
    return refusal("Not analysed: " + " ".join(reasons[:3]) + more, program)


def refusal(message: str, program: str) -> Insight:
    return Insight(hosts=GenerateResult(program=program), findings=[], counts={"error": 1}, refused=message)


def draft_insight(
    yaml_text: str, draft: Draft, *, program: str, disable_default: bool = False, embedded: bool = False,
    ipv6: bool = False, image: str = "", lint_flags: Sequence[Flags] | None = None,
) -> Insight:
    # One parse for the three tabs; the hosts.toml tab and Explain use the same flags, so Explain
    # reads the files the tab shows. The lint checks the files the nodes write (`lint_flags`: their
    # engine options, see regui/k3s/linter.py), not the ones the preview's flags try.
    try:
        reg = parse_registries(yaml_text)
    except RegistriesParseError:
        hosts = generate_hosts(yaml_text, program=program, disable_default_endpoint=disable_default,
                               embedded_registry=embedded, ipv6_primary=ipv6)  # the refusal, as the tab says it
        findings = lint(yaml_text, program=program, flags=lint_flags)
    else:
        hosts = generate_from_registries(reg, program, disable_default, embedded, ipv6)
        findings = lint_registries(reg, program, lint_flags)
    slots = _Slots(draft)
    linked = [LinkedFinding(f, slots.slot(f.path)) for f in [*findings, *ca_bundle_findings(draft)]]
    linked.sort(key=lambda lf: SEVERITY_ORDER.get(lf.finding.severity, 3))
    pull = None
    if image.strip():
        try:
            pull = explain_from_result(hosts, image.strip())
        except Exception as e:  # like explain_pull: the tab must render something for any input
            pull = PullExplanation(error=f"internal error while explaining the pull: {e!r}")
    counts = {s: sum(1 for lf in linked if lf.finding.severity == s) for s in SEVERITY_ORDER}
    return Insight(hosts=hosts, findings=linked, pull=pull, counts=counts)


def ca_bundle_findings(draft: Draft) -> list[Finding]:
    """A CA Cert Bundle holding no CA certificate: the engine sees only the file's path, regui its text.
    containerd then refuses the registry's certificate at pull time, in words that do not say why."""
    out = []
    for box in draft.configs:
        found = ca_bundle_without_ca(box.ca_bundle)
        if found is None:
            continue
        subject, why, issuer = found
        out.append(Finding(
            "ca-bundle-not-ca", "warning", ("configs", box.hostname, "tls", "ca_file"),
            f"The CA Cert Bundle of {box.hostname} holds no CA certificate: {subject} is not a CA certificate "
            f"({why}), most likely the registry's own certificate. containerd trusts only certificates signed by "
            "a CA in the bundle, so pulls fail with \"x509: certificate signed by unknown authority\" (unless "
            "it is the very self-signed certificate the registry serves).",
            f"Give the certificate of the CA that signed the registry's certificate (its issuer: {issuer}), "
            "or the chain up to that CA; `openssl s_client -showcerts -connect HOST:PORT` shows who signed it."))
    return out


def lint_errors_by_slot(yaml_text: str, draft: Draft, *, program: str,
                        flags: Sequence[Flags] | None = None) -> dict[str, list[str]]:
    """Lint errors as form errors; findings about no particular field go under `__all__`. `flags`: the
    nodes' engine options (None: unknown, see regui/k3s/linter.py)."""
    errors: dict[str, list[str]] = {}
    slots = _Slots(draft)
    for f in lint(yaml_text, program=program, flags=flags):
        if f.severity != "error":
            continue
        slot = slots.slot(f.path) or "__all__"
        errors.setdefault(slot, []).append(f"{f.message} {f.hint}".strip())
    return errors
