from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regui.settings")

app = Celery("regui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Connects the worker's heartbeat to Celery's worker signals (pages read it to tell a dead worker).
from regui.core import heartbeat  # noqa: E402, F401
