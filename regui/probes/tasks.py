from __future__ import annotations

from celery import shared_task

from .services import REGISTRY_TEST_TASK, registry_test_run


@shared_task(name=REGISTRY_TEST_TASK)
def registry_test_run_task(test_id: int) -> str:
    """Thin: the test's id is the only argument; the worker reads the configuration and its secrets
    itself, and returns a status word (the result backend never holds anything else)."""
    return registry_test_run(test_id).status
