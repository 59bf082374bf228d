from __future__ import annotations

import io

from celery import shared_task
from django.core.management import call_command


@shared_task(name="regui.prune_history")
def prune_history_task() -> str:
    """Daily, from Celery beat (CELERY_BEAT_SCHEDULE): retention of the history."""
    out = io.StringIO()
    call_command("prune_history", stdout=out)
    return out.getvalue().strip()
