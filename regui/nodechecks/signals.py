"""After a push, read back the hosts.toml files K3s wrote on the nodes it restarted.

Celery's task_postrun of the push task, in the worker that ran it: the push itself stays one SSH exec
per node and ends when its nodes do, and knows nothing of the node checks."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import task_postrun

from .services import PUSH_TASK, readbacks_after_push_queue

log = logging.getLogger(__name__)


@task_postrun.connect
def read_back_after_push(sender: Any = None, args: Any = None, state: str | None = None, **_: Any) -> None:
    if getattr(sender, "name", None) != PUSH_TASK or state != "SUCCESS" or not args:
        return
    try:
        readbacks_after_push_queue(int(args[0]))
    except Exception:  # the push is done and recorded; only its read-back is lost
        log.exception("could not queue the hosts.toml read-back after push %s", args[0])
