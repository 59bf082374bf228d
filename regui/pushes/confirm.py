"""What a push would do, for the page that asks before it is queued (issue 11 item 6): which nodes,
in which order, which restart, and what changes on each (the redacted diff against the revision the
node last had). Reads only; nothing connects to a node."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.conf import settings

from regui.audit.diff import UnifiedLine, unified
from regui.inventory.models import Node
from regui.inventory.selectors import NodeContent, node_content
from regui.registries.models import Cluster

from .files import RenderRefused, check_render
from .plan import Plan, Policy, Step, push_plan
from .services import effective_policy, policy_refusal
from .targets import keyless_refusal


@dataclass
class Change:
    """One kind of change, shared by the nodes that last had the same file."""
    key: str  # "r<number>" | "unknown"
    title: str
    lines: list[UnifiedLine]
    nodes: list[str] = field(default_factory=list)
    # False when there was no render to compare with (a refused plan): no diff then says nothing changes.
    compared: bool = True

    @property
    def unchanged(self) -> bool:
        return self.key != "unknown" and self.compared and not self.lines


@dataclass
class NodePlan:
    node: Node
    has_key: bool
    content: str  # what it has: "revision 4 (current)", "unknown, will be replaced", ...
    change_key: str
    restart: str  # in words, for the choice made
    if_restart: str  # ... when the push restarts on change
    if_write_only: str  # ... when it writes only


@dataclass
class PushPreview:
    cluster: Cluster
    restart: bool
    nodes: list[NodePlan]
    steps: list[Step]
    changes: list[Change]
    refused: str = ""  # why nothing may be queued
    without_key: list[str] = field(default_factory=list)
    plan: Plan | None = None  # the rolling plan: batches, what stops the push, expected restarts
    other_plan: Plan | None = None  # the plan with the other "write only" choice (the page may switch)
    checked: str = ""  # the redacted render check_render passed ("" when refused): push_job_create's `checked`

    @property
    def node_ids(self) -> list[int]:
        return [p.node.pk for p in self.nodes]

    @property
    def restart_plan(self) -> Plan | None:
        return self.plan if self.restart else self.other_plan

    @property
    def write_only_plan(self) -> Plan | None:
        return self.other_plan if self.restart else self.plan


def push_preview(cluster: Cluster, nodes: list[Node], *, restart: bool, policy: Policy | None = None) -> PushPreview:
    """`policy`: the push's rolling policy (the cluster's by default)."""
    refused, current = "", ""
    try:
        current = check_render(cluster)
    except RenderRefused as exc:
        refused = str(exc)
    without_key = [n.name for n in nodes if not n.has_approved_key]
    if not nodes:
        refused = refused or "No nodes to push to."
    policy = policy or effective_policy(cluster)
    refused = refused or keyless_refusal(nodes) or policy_refusal(cluster, policy, restart)
    plan, other = (push_plan(cluster, nodes, policy, restart=r, chunk_size=settings.REGUI_PUSH_CHUNK)
                   for r in (restart, not restart))
    steps = plan.order()  # in the plan's own words, as its summary (and the job page) say it
    order = {name: i for i, name in enumerate(name for step in steps for name in step.names)}
    changes: dict[str, Change] = {}
    plans, expected = [], []
    contents: dict[tuple[str, str], NodeContent] = {}  # by what nodes last had: one lookup each, not per node
    for node in sorted(nodes, key=lambda n: order[n.name]):
        had = (node.last_sha256, node.last_sync_key)
        content = contents.get(had) or contents.setdefault(had, node_content(node))
        if content.kind == "known" and content.revision is not None:
            key = f"r{content.revision.number}"
            if key not in changes:
                lines = unified(content.revision.yaml_redacted, current) if current else []
                changes[key] = Change(key, f"from revision {content.revision.number}", lines, compared=bool(current))
            has = f"revision {content.revision.number}" + (" (current)" if content.current else "")
        else:
            key = "unknown"
            if key not in changes:
                changes[key] = Change(key, "unknown, will be replaced", [])
            has = "never read: unknown, will be replaced" if content.kind == "unread" else \
                "a file no revision has: unknown, will be replaced"
        changes[key].nodes.append(node.name)
        # The same file only when it is the current revision's: an older one that redacts the same
        # differs in a secret.
        same = content.current and changes[key].key != "unknown" and not changes[key].lines
        with_restart, write_only = _restart_words(node, same)
        plans.append(NodePlan(node, node.has_approved_key, has, key, with_restart if restart else write_only,
                              with_restart, write_only))
        if node.has_approved_key and (not same or node.restart_pending):  # a node without one gets nothing
            expected.append(node.name)
    if current:  # what each node has is known (or known to be unknown): so are its restarts
        if restart:
            plan = replace(plan, expected_restarts=tuple(expected), restarts_known=True)
        else:
            other = replace(other, expected_restarts=tuple(expected), restarts_known=True)
    return PushPreview(cluster, restart, plans, steps, list(changes.values()), refused, without_key, plan, other,
                       "" if refused else current)


def _restart_words(node: Node, same: bool) -> tuple[str, str]:
    """What happens to the node's service (restarting on change, writing only), in words."""
    if not node.has_approved_key:
        nothing = "no restart: nothing is sent (no approved host key)"
        return nothing, nothing
    write_only = "no restart (write only)" + (
        (f"; {node.service} still waits for a restart (its last one failed)" if node.restart_failed else
         f"; {node.service} still waits for an earlier restart") if node.restart_pending else "")
    if same and node.restart_pending:
        return (f"restarts {node.service}: its last restart failed" if node.restart_failed else
                f"restarts {node.service} to apply an earlier write-only push"), write_only
    if same:
        return "no restart: its file is already this one", write_only
    return f"restarts {node.service} if its file changes", write_only
