"""A database statement tried again while the database is away for a moment: PostgreSQL restarting
(the connection dropped under a worker), SQLite's write lock held by a long commit."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

T = TypeVar("T")


def db_retry(fn: Callable[[], T], delays: Sequence[float]) -> T:
    """fn(), tried again after each of `delays` (seconds) while it raises OperationalError or
    InterfaceError; the last error is raised once the delays are used up. The broken connection is
    closed before each new try, so that it opens a new one. Inside a transaction the first error is
    raised: its connection cannot be replaced without losing the transaction's writes."""
    for delay in delays:
        try:
            return fn()
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block:
                raise
            connection.close()
            time.sleep(delay)
    return fn()
