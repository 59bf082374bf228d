"""The rolling plan of a push: which nodes go in which step, in what order, and what restarts. Pure
Python (no Django, no database): views, the job page and the runner all read the same plan.

A restarting push rolls: the servers one at a time, in name order (etcd keeps its quorum), then the
agents in batches of "agents at once" (a number, or a percentage of the agents pushed), each step
starting once the one before has ended healthy, after an optional pause. A step's nodes are split
into chunks of at most `chunk_size`, each a task of its own, so several workers share a large step.
A drift check only reads: its nodes go in batches, with no pause and no stop.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

SERVER, AGENT = "server", "agent"
AT_ONCE_MAX = 10_000
PAUSE_MAX = 24 * 3600  # seconds between steps: a day
FAILURES_MAX = 100_000
_AT_ONCE = re.compile(r"[ \t]*([0-9]{1,5})[ \t]*(%?)[ \t]*")


class PlanNode(Protocol):
    """What the plan reads of a node (a regui Node row has all of it; also last_sync_key, restart_pending)."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True)
class Policy:
    """How a push rolls. `agents_at_once` is a number ("10") or a percentage of the agents ("25%")."""

    agents_at_once: str = "10"
    max_failures: int = 0  # stop once this many nodes failed (later ones are skipped); 0: never
    pause_seconds: int = 0  # between two steps, after a step that restarted a node
    ready_gate: bool = False  # after a restart, wait until Kubernetes reports the node Ready

    def __post_init__(self) -> None:
        # One spelling for one meaning (" 010 %" is "10%"): two requests alike are one push (joining.py).
        match = _AT_ONCE.fullmatch(self.agents_at_once or "")
        if match:
            object.__setattr__(self, "agents_at_once", f"{int(match[1])}{match[2]}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, default_at_once: str = "10") -> Policy:
        data = data or {}
        return cls(agents_at_once=str(data.get("agents_at_once") or default_at_once),
                   max_failures=int(data.get("max_failures") or 0), pause_seconds=int(data.get("pause_seconds") or 0),
                   ready_gate=bool(data.get("ready_gate")))


def policy_problem(policy: Policy) -> str:
    """Why a policy cannot be run ("" when it can): the bounds every way of starting a push shares."""
    try:
        parse_at_once(policy.agents_at_once)
    except ValueError as exc:
        return str(exc)
    if not 0 <= policy.max_failures <= FAILURES_MAX:
        return f"Stop after failures is between 0 (never) and {FAILURES_MAX}."
    if not 0 <= policy.pause_seconds <= PAUSE_MAX:
        return f"The pause between batches is between 0 and {PAUSE_MAX} s (a day)."
    return ""


def parse_at_once(text: str) -> tuple[int, bool]:
    """(value, is a percentage); ValueError with an operator's message when it is neither."""
    match = _AT_ONCE.fullmatch(text or "")
    if not match:
        raise ValueError(f"{text!r} is neither a number of agents (10) nor a percentage of them (25%).")
    value, percent = int(match[1]), bool(match[2])
    if percent and not 1 <= value <= 100:
        raise ValueError("A percentage of the agents is between 1% and 100%.")
    if not percent and not 1 <= value <= AT_ONCE_MAX:
        raise ValueError(f"Agents at once is between 1 and {AT_ONCE_MAX}.")
    return value, percent


def batch_size(at_once: str, agents: int) -> int:
    """How many agents restart at once: a percentage is of the agents pushed, rounded up, at least 1."""
    value, percent = parse_at_once(at_once)
    if percent:
        return max(1, math.ceil(agents * value / 100))
    return value


def split(names: Sequence[str], size: int) -> list[tuple[str, ...]]:
    """`names` in consecutive parts of at most `size`, as even as that allows (30 by 25: 15 and 15)."""
    if not names:
        return []
    parts = math.ceil(len(names) / max(1, size))
    base, extra = divmod(len(names), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + base + (1 if i < extra else 0)
        out.append(tuple(names[start:end]))
        start = end
    return out


@dataclass(frozen=True)
class PlanStep:
    index: int
    role: str  # "server", "agent", or "" for a step of any nodes (a drift check)
    nodes: tuple[str, ...]
    chunks: tuple[tuple[str, ...], ...]
    pause_before: int = 0  # seconds, when the step before restarted a node

    @property
    def label(self) -> str:
        if self.role == SERVER:
            return f"server {self.nodes[0]}"
        return f"{counted(len(self.nodes), 'agent' if self.role == AGENT else 'node')}: {_names(self.nodes)}"


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlanStep, ...]
    policy: Policy
    batch: int  # agents at once, resolved
    restart: bool
    rolling: bool  # a restarting push: the order protects the cluster
    expected_restarts: tuple[str, ...]  # nodes whose restart is expected (their file will change)
    restarts_known: bool  # False: the nodes' current files are not known; every node may restart
    servers: int = 0
    agents: int = 0
    units: tuple[str, str] = ("k3s", "k3s-agent")  # what restarts on a server, on an agent
    kind: str = "push"  # or "drift": a check that only reads
    _step_of: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _chunk_of: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def step_of(self, name: str) -> int:
        return self._step_of[name]

    def chunk_of(self, name: str) -> int:
        """Chunks are numbered across the whole plan, from 0."""
        return self._chunk_of[name]

    @property
    def chunk_count(self) -> int:
        return sum(len(s.chunks) for s in self.steps)

    def batches_text(self) -> str:
        """How the agents (the nodes, for a drift check) go, batch by batch: the one wording of it, which
        the summary and the confirmation page's order both use ("5 agents in 3 batches of up to 2")."""
        if self.kind != "push":
            return _batched(len(self._step_of), "node", self.batch)
        return _batched(self.agents, "agent", self.batch)

    def servers_text(self) -> str:
        return "1 server" if self.servers == 1 else f"{self.servers} servers one at a time"

    def order(self) -> list[Step]:
        """The confirmation page's steps: the servers, then the agents, each group in its order."""
        names = sorted(self._step_of, key=lambda n: (self._step_of[n], n))
        servers = tuple(n for n in names if self.steps[self._step_of[n]].role == SERVER)
        agents = tuple(n for n in names if self.steps[self._step_of[n]].role != SERVER)
        out = []
        if servers:
            out.append(Step(SERVER, servers, f"{counted(self.servers, 'server')} first, in this order (servers go "
                                             "one at a time: one that does not end healthy stops the servers after "
                                             "it when restarting)"))
        if agents:
            after = ", after the servers" if servers else ""
            out.append(Step(AGENT, agents, f"{_first_up(self.batches_text())}{after}, in this order: each batch "
                                           "once the one before has ended"))
        return out

    def summary(self) -> str:
        """One sentence for a page or a confirmation: how the push rolls, then what restarts."""
        text = self.rolling_text()
        if not self.rolling:
            return text
        if self.restarts_known:
            return f"{text} Expected restarts: {len(self.expected_restarts)} of {len(self._step_of)}."
        return f"{text} Up to {counted(len(self._step_of), 'restart')}: every node whose file changes restarts."

    def rolling_text(self) -> str:
        """How the push goes (order, batches, pauses, what stops it, health): the same plan says the
        same on the confirmation page and on its job's page."""
        p = self.policy
        if self.kind != "push":
            return f"{_first_up(self.batches_text())} (read only)."
        parts = [self.servers_text()] if self.servers else []
        if self.agents:
            parts.append(f"then {self.batches_text()}" if self.servers else self.batches_text())
        text = ", ".join(parts)
        if not self.rolling:  # write only: still in the push's order, with nothing to wait for
            return f"{_first_up(text)} (write only, no restart)."
        text = f"{_first_up(text)}."
        text += f" Pause {p.pause_seconds} s after a step that restarted a node." if p.pause_seconds else ""
        text += (f" Stop after {counted(p.max_failures, 'failed node')}: the rest are skipped." if p.max_failures
                 else " A failed agent does not stop the others.")
        text += " A server that does not end healthy stops the servers after it."
        units = " / ".join(self.units)
        return text + (f" Health: systemctl is-active {units}, then Ready in Kubernetes (kubectl on a server)."
                       if p.ready_gate else f" Health: systemctl is-active {units}.")

def push_plan(cluster: Any, nodes: Iterable[PlanNode], policy: Policy, *, restart: bool = True,
              kind: str = "push", target_key: str | None = None, chunk_size: int = 50) -> Plan:
    """The plan of a push of `cluster` (anything with a `distro`) to `nodes`. `target_key`: the sync key
    (core/fingerprints.py) of the registries.yaml the push writes, when known: a node regui last wrote or
    confirmed it on (and that owes no restart) is not expected to restart."""
    nodes = list(nodes)
    servers = sorted((n for n in nodes if n.role == SERVER), key=lambda n: n.name)
    agents = sorted((n for n in nodes if n.role != SERVER), key=lambda n: n.name)
    rolling = kind == "push" and restart
    steps: list[PlanStep] = []
    pause = policy.pause_seconds if rolling else 0

    def add(role: str, names: tuple[str, ...]) -> None:
        steps.append(PlanStep(len(steps), role, names, tuple(split(names, chunk_size)), pause if steps else 0))

    if kind == "push":
        batch = batch_size(policy.agents_at_once, len(agents))
        for s in servers:
            add(SERVER, (s.name,))
        for part in _batches([a.name for a in agents], batch):
            add(AGENT, part)
    else:  # a drift check: nothing restarts, nothing to protect
        everyone = [n.name for n in servers + agents]
        batch = batch_size(policy.agents_at_once, len(everyone))
        for part in _batches(everyone, batch):
            add("", part)
    expected: list[str] = []
    known = target_key is not None
    if kind == "push" and restart:
        for n in servers + agents:
            last = getattr(n, "last_sync_key", "") or ""
            if not known or getattr(n, "restart_pending", False) or last != target_key:
                expected.append(n.name)
    step_of = {name: s.index for s in steps for name in s.nodes}
    chunks = [chunk for s in steps for chunk in s.chunks]
    chunk_of = {name: i for i, chunk in enumerate(chunks) for name in chunk}
    return Plan(tuple(steps), policy, batch, restart, rolling, tuple(expected), known, len(servers), len(agents),
                units(getattr(cluster, "distro", "k3s")), kind, step_of, chunk_of)


def units(distro: str) -> tuple[str, str]:
    """The systemd units a push restarts on a server and on an agent."""
    return ("rke2-server", "rke2-agent") if distro == "rke2" else ("k3s", "k3s-agent")


def _batches(names: list[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(names[i:i + size]) for i in range(0, len(names), size)]


def _names(names: Sequence[str], shown: int = 6) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown - 1])}, … {names[-1]}"


def counted(n: int, word: str, plural: str = "") -> str:
    """"1 agent", "2 agents", "3 batches": a count with its noun, singular or plural as it reads."""
    return f"{n} {word if n == 1 else plural or (word + 'es' if word.endswith(('ch', 's', 'x')) else word + 's')}"


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _batched(count: int, word: str, batch: int) -> str:
    if count <= 1:
        return counted(count, word)
    batches = math.ceil(count / batch)
    if batches == 1:
        return f"{counted(count, word)} at once"
    return f"{counted(count, word)} in {counted(batches, 'batch')} of up to {min(batch, count)}"


@dataclass(frozen=True)
class Step:
    """A group of the confirmation page's order (Plan.order): its nodes, in order, and in words."""
    role: str  # "server" | "agent"
    names: tuple[str, ...]
    text: str
