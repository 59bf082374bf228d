"""What an import would do, shown before anything is saved: the redacted registries.yaml now and
after, their diff, and the mirrors, configs and secrets it adds, changes or removes."""

from __future__ import annotations

from dataclasses import dataclass, replace

from regui.audit.diff import UnifiedLine, unified

from .draft import drop_blank_boxes
from .importing import Change, ImportPlan, PendingSecret
from .render import AuthSpec, render_yaml
from .selectors import PRESENT, cluster_render, draft_secret_ids, draft_spec, secrets_by_id


@dataclass
class ImportPreview:
    plan: ImportPlan
    before: str  # redacted
    after: str  # redacted, as the Registries page will render it once saved
    lines: list[UnifiedLine]
    changes: list[Change]

    @property
    def secrets(self) -> list[str]:
        return [p.name for p in self.plan.pending.values()]

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def of(self, section: str) -> list[Change]:
        return [c for c in self.changes if c.section == section]

    @property
    def mirror_changes(self) -> list[Change]:
        return self.of("mirror")

    @property
    def config_changes(self) -> list[Change]:
        return self.of("config")


def _pending_auth(pending: PendingSecret) -> AuthSpec:
    # What the saved secret renders as, redacted: its name, its username, a marker per value.
    values = {k: PRESENT for k in pending.values}
    return AuthSpec(username=pending.username, password=values.get("password", ""), auth=values.get("auth", ""),
                    identity_token=values.get("identity_token", ""), secret_name=pending.name)


def plan_render(plan: ImportPlan) -> str:
    """The redacted registries.yaml the plan saves, its new secrets named as they will be."""
    draft = drop_blank_boxes(plan.draft)
    spec, _ = draft_spec(draft, distro=plan.cluster.distro, secrets=secrets_by_id(draft_secret_ids(draft)),
                         reveal=False)
    configs = tuple(replace(c, auth=_pending_auth(plan.pending[box.token])) if box.token in plan.pending else c
                    for c, box in zip(spec.configs, draft.configs, strict=True))
    return render_yaml(replace(spec, configs=configs), redact=True)


def import_preview(plan: ImportPlan) -> ImportPreview:
    before = cluster_render(plan.cluster)
    after = plan_render(plan)
    return ImportPreview(plan=plan, before=before, after=after, lines=unified(before, after), changes=plan.changes)


def preview_text(preview: ImportPreview) -> str:
    """The preview as plain text, for `import_registries --dry-run`."""
    plan = preview.plan
    out = [f"Would import into {plan.cluster.name} ({plan.program}): {plan.mirrors} mirror(s) and "
           f"{plan.configs} registry authentication {'entry' if plan.configs == 1 else 'entries'} in the file."]
    if not preview.has_changes:
        out.append("Nothing would change: the registries already hold everything the file has.")
    for change in preview.changes:
        what = "mirror" if change.section == "mirror" else "registry authentication"
        out.append(f"  {change.action:8} {what} {change.host}")
    out += [f"  new secret {name}" for name in preview.secrets]
    out += [f"warning: {w}" for w in plan.warnings]
    if preview.lines:
        out += ["--- registries.yaml now (redacted)", "+++ after the import (redacted)"]
        out += [line.text if line.kind == "hunk" else f"{line.sign}{line.text}" for line in preview.lines]
    return "\n".join(out) + "\n"
