"""Whether a worker will take or finish a registry test: pushes/liveness.py's reading of the workers'
heartbeats, asked about this task (a test page polls, and must not poll forever for nothing)."""

from __future__ import annotations

from regui.pushes.liveness import SLOW_POLL, START, WorkerWait, WorkerWatch

from .models import RegistryTest
from .services import REGISTRY_TEST_TASK


def _span(seconds: float) -> str:
    return f"{int(seconds)} s" if seconds < 120 else f"{int(seconds) // 60} min"


class TestWatch(WorkerWatch):
    def holds(self, test: RegistryTest, state: str) -> bool:
        return any(s == state and name == REGISTRY_TEST_TASK and args[:1] == [test.pk]
                   for b in self.alive for s, name, args in b.tasks)

    def test_wait(self, test: RegistryTest) -> WorkerWait | None:
        """None while all is as expected; else what the page says, and how often it polls."""
        if test.status == RegistryTest.Status.QUEUED:
            waited = self.now - test.created_at
            if waited < self.wait or self.holds(test, "reserved"):
                return None
            span = _span(waited.total_seconds())
            if not self.alive:
                return WorkerWait(f"No worker is answering: this test has waited {span}, and {self._none_seen()}. "
                                  f"{START} The test starts as soon as one runs.", True, SLOW_POLL)
            if not any(b.tasks for b in self.alive):
                return WorkerWait(f"No worker is answering for this test: a worker is running and idle, but has not "
                                  f"taken it in {span}, so its task was lost. Test again.", True, SLOW_POLL)
            return WorkerWait(f"Queued for {span}: the worker is busy with other jobs.", False, 1)
        if test.status == RegistryTest.Status.RUNNING:
            since = test.started_at or test.created_at
            if self.now - since < self.wait or self.holds(test, "active"):
                return None
            cause = ("the worker that was running it stopped." if self.alive
                     else f"the worker running it stopped, and {self._none_seen()}. {START}")
            return WorkerWait(f"No worker is answering for this test: {cause} It will not finish. Test again.",
                              True, 0)
        return None
