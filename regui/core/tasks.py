from __future__ import annotations

from celery import shared_task
from django.db import connection


@shared_task(name="regui.ping")
def ping() -> str:
    """Answers from a worker: used by health checks and the worker tests."""
    with connection.cursor() as cur:  # proves the worker reaches the database too
        cur.execute("SELECT 1")
    return "pong"
