"""Who a push may go to: the refusal every way of starting one shares (the confirmation page, the
node list's old push form, a node's push button, "Re-run unfinished nodes")."""

from __future__ import annotations

from collections.abc import Sequence

from regui.inventory.models import Node

NAMED = 10


def keyless_refusal(nodes: Sequence[Node]) -> str:
    """Why nothing may be queued when no target node has an approved host key ("" when one has: the
    others fail at the trust gate, with nothing sent to them)."""
    without = [n.name for n in nodes if not n.has_approved_key]
    if nodes and len(without) == len(nodes):
        # A few names: a cluster of thousands of unscanned nodes made this one paragraph of all of them.
        more = f" and {len(without) - NAMED:,} more" if len(without) > NAMED else ""
        return ("No target node has an approved host key, so nothing would be sent: " + ", ".join(without[:NAMED])
                + more + ". Scan and approve their host keys first.")
    return ""
