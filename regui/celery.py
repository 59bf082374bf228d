from __future__ import annotations

import gc
import os
import sys
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun, worker_process_init
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regui.settings")

app = Celery("regui")


@app.on_configure.connect
def _settings_or_a_sentence(sender: Celery | None = None, **_: Any) -> None:
    """Celery reads the settings first while it parses the worker's options, where a configuration
    mistake was a traceback: said in one line and status 2 instead, as manage.py says it."""
    try:
        settings.INSTALLED_APPS  # noqa: B018  (reads the settings module)
    except ImproperlyConfigured as exc:
        print(f"regui: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _database_connections(sender: Task | None = None, **_: Any) -> None:
    """A task's database connections are handled as Django handles them between two requests: kept
    while younger than CONN_MAX_AGE and usable (CONN_HEALTH_CHECKS), else closed. Celery's own Django
    fixup closed every connection before and after each task (see CELERY_DB_REUSE_MAX in settings),
    so on PostgreSQL each task's first query waited for a new server process (~6-10 ms here: every
    chunk of a push, before its first node). Not in eager mode: there a task runs inside its caller's
    transaction (a test's), which closing would end."""
    if sender is not None and not getattr(sender.request, "is_eager", False):
        close_old_connections()


@worker_process_init.connect
def _freeze_inherited_objects(**_: Any) -> None:
    """What a worker process inherits at its start (Django, the apps, the modules: most of its heap) is
    never garbage; frozen, the collector no longer walks it. Unfrozen, a full collection during a push
    walked all of it: ~0.1 s, once every few pushes, with the nodes' sessions waiting on it."""
    gc.freeze()
