"""The order a push takes, for the confirmation page, as pure data (no database).

Mirrors what `services.push_job_run` does today: servers one at a time, in one sequence that stops
restarting after a failure (etcd quorum), and agents in parallel, up to REGUI_PUSH_CONCURRENCY at once,
alongside the servers. Meant to be replaced by the rolling policy's `push_plan` once it exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    role: str  # "server" | "agent"
    names: tuple[str, ...]
    at_once: int  # how many of these nodes are worked on at the same time

    @property
    def text(self) -> str:
        if self.role == "server":
            return ("Servers, one at a time, in this order (after a failed server, later servers are skipped "
                    "when restarting)")
        return f"Agents, in parallel, up to {self.at_once} at a time, alongside the servers"


def rollout_order(nodes: Iterable[tuple[str, str]], concurrency: int) -> list[Step]:
    """Steps for (name, role) pairs in the order push_job_run takes them (its results' order:
    servers first, by name)."""
    pairs = sorted(nodes, key=lambda p: (p[1] != "server", p[0]))
    servers = tuple(n for n, role in pairs if role == "server")
    agents = tuple(n for n, role in pairs if role != "server")
    steps = []
    if servers:
        steps.append(Step("server", servers, 1))
    if agents:
        steps.append(Step("agent", agents, max(1, min(concurrency, len(agents)))))
    return steps
