"""Finished node results, written in small batches by the job's thread.

Thirty nodes finishing within a few milliseconds of each other would otherwise make thirty
commits queue for SQLite's single write lock, and ninety ORM statements take the CPU the SSH
sessions still need. One thread gathers what finished in the last few milliseconds and writes it
as one commit of a few bulk statements; the job page still updates live.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from django.db import transaction

from regui.audit.models import AuditEvent
from regui.core.bulk_sql import insert_objects, update_rows
from regui.core.dbretry import db_retry
from regui.inventory.models import Node

from .models import PushResult

log = logging.getLogger(__name__)
Write = Callable[[], None]
_STOP = object()
RETRY_SECONDS = 1.0  # then twice that: a database restarting, SQLite's write lock held by a long commit
RESULT_FIELDS = ["status", "message", "started_at", "finished_at", "duration_ms", "sha256_before", "sha256_after",
                 "key_before", "key_after", "restarted", "output", "via"]


@dataclass
class NodeOutcome:
    """What one node's push leaves in the database: its result, the node's state, a history entry."""

    result: PushResult
    node: Node
    node_fields: dict
    event: AuditEvent | None  # None: nothing worth a history entry (a drift check that found no change)


def outcomes_write(outcomes: list[NodeOutcome]) -> None:
    """Few statements for many outcomes, as many for thirty as for three: the results in one, the
    nodes in one per set of fields written, the history entries in one; the node's push lock is
    released with them."""
    update_rows(PushResult, RESULT_FIELDS, [(o.result.pk, [getattr(o.result, f) for f in RESULT_FIELDS])
                                            for o in outcomes])
    by_fields: dict[tuple[str, ...], list[NodeOutcome]] = defaultdict(list)
    for o in outcomes:
        for name, value in o.node_fields.items():
            setattr(o.node, name, value)
        o.node.lock_job = o.node.lock_at = None
        by_fields[tuple(sorted(o.node_fields))].append(o)
    for fields, group in by_fields.items():
        update_rows(Node, list(fields), [(o.node.pk, [o.node_fields[f] for f in fields]) for o in group],
                    constants={"lock_job": None, "lock_at": None})
    insert_objects(AuditEvent, [o.event for o in outcomes if o.event is not None])


class ResultSink:
    """Written by the job's own thread while the node threads run (`serve`): no extra thread and
    no extra database connection per job."""

    def __init__(self, gather_seconds: float = 0.005):
        self._queue: queue.Queue = queue.Queue()
        self._gather = gather_seconds

    def put(self, item: NodeOutcome | Write) -> None:
        """A node's outcome, or a callable that writes (run after the outcomes of its batch)."""
        self._queue.put(item)

    def serve(self, futures: list[Future], last: Write | None = None) -> None:
        """Write batches as they arrive until every future is done and everything queued is written;
        `last` goes in the final batch's commit."""
        pending = len(futures)
        lock = threading.Lock()

        def done(_f: Future) -> None:
            nonlocal pending
            with lock:
                pending -= 1
                last = pending == 0
            if last:
                self._queue.put(_STOP)

        for f in futures:
            f.add_done_callback(done)
        if not futures:
            self._queue.put(_STOP)
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            try:
                while batch[-1] is not _STOP:  # once everything finished, nothing more can come
                    batch.append(self._queue.get(timeout=self._gather))
            except queue.Empty:
                pass
            if _STOP in batch:
                stopping = True
                batch = [w for w in batch if w is not _STOP] + ([last] if last else [])
            self.flush(batch)

    def flush(self, batch: list) -> None:
        if not batch:
            return
        outcomes = [w for w in batch if isinstance(w, NodeOutcome)]
        calls = [w for w in batch if not isinstance(w, NodeOutcome)]
        try:
            with transaction.atomic():
                if outcomes:
                    outcomes_write(outcomes)
                for call in calls:
                    call()
        except Exception:
            # One bad write must not lose the others: retry them one by one, each again while the
            # database is away for a moment. An outcome that still fails is raised once the others are
            # written, before the job's own writes (which may end its step): the job then ends failed
            # and its nodes in flight say their state is unknown, rather than a result staying
            # "running" and its node locked in a job that ended.
            log.exception("batched push-result write failed; writing one by one")
            failed: Exception | None = None
            for outcome in outcomes:
                try:
                    _write_retrying(outcome)
                except Exception as exc:
                    log.exception("push-result write failed")
                    failed = failed or exc
            if failed is not None:
                raise failed from None
            for call in calls:
                _write_retrying(call)


def _write_retrying(item: NodeOutcome | Write) -> None:
    def write() -> None:
        with transaction.atomic():
            outcomes_write([item]) if isinstance(item, NodeOutcome) else item()

    db_retry(write, [RETRY_SECONDS, 2 * RETRY_SECONDS])
