"""Whether a worker will take or finish a registry test: pushes/liveness.py's reading of the workers'
heartbeats, asked about this task (a test page polls, and must not poll forever for nothing)."""

from __future__ import annotations

from regui.pushes.liveness import START, WorkerWait, WorkerWatch

from .models import RegistryTest
from .services import REGISTRY_TEST_TASK


class TestWatch(WorkerWatch):
    def test_wait(self, test: RegistryTest) -> WorkerWait | None:
        """None while all is as expected; else what the page says, and how often it polls."""
        if test.status == RegistryTest.Status.QUEUED:
            return self.queued_wait(test, REGISTRY_TEST_TASK, "test", "Test again.")
        if test.status == RegistryTest.Status.RUNNING:
            since = test.started_at or test.created_at
            if self.now - since < self.wait or self.holds(REGISTRY_TEST_TASK, test.pk, "active"):
                return None
            cause = ("the worker that was running it stopped." if self.alive
                     else f"the worker running it stopped, and {self._none_seen()}. {START}")
            return WorkerWait(f"No worker is answering for this test: {cause} It will not finish. Test again.",
                              True, 0)
        return None
