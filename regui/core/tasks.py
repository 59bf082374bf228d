from __future__ import annotations

from celery import shared_task


@shared_task(name="regui.ping")
def ping() -> str:
    """Answers from a worker: used by health checks and the worker tests."""
    from django.db import connection

    with connection.cursor() as cur:  # proves the worker reaches the database too
        cur.execute("SELECT 1")
    return "pong"
