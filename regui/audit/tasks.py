from __future__ import annotations

import io

from celery import shared_task
from django.core.management import call_command

from .logins import prune_login_throttles


@shared_task(name="regui.prune_history")
def prune_history_task() -> str:
    """Daily, from Celery beat (CELERY_BEAT_SCHEDULE): retention of the history, and the login
    bookkeeping that is over (expired sessions, finished login throttles)."""
    out = io.StringIO()
    call_command("prune_history", stdout=out)
    call_command("clearsessions")
    prune_login_throttles()
    return out.getvalue().strip()
