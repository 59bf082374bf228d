"""What a job came to, from its results: succeeded, partly failed or failed, with counts per status.

`PushJob.status` only says where the job is (queued, running, done, refused); a job whose every node
failed is still "done". The outcome is computed from the results, never stored: a refused job stays
refused, a queued or running one shows its progress.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count

from .models import PushJob, PushResult

Status = PushResult.Status
# A node that did not get (or, for a drift check, could not be checked for) the file.
BAD = (Status.FAILED, Status.UNREACHABLE, Status.SKIPPED, Status.INTERRUPTED)
# Of those, nodes never finished rather than failed: skipped by a stop-after-N policy, or interrupted.
UNFINISHED = (Status.SKIPPED, Status.INTERRUPTED)
BUSY = (Status.PENDING, Status.RUNNING)
# The order counts are written in.
ORDER = [Status.CHANGED, Status.UNCHANGED, Status.IN_SYNC, Status.OUT_OF_DATE, Status.DRIFTED, Status.FAILED, Status.UNREACHABLE,
         Status.SKIPPED, Status.INTERRUPTED, Status.RUNNING, Status.PENDING]
LABELS = {"succeeded": "succeeded", "partly_failed": "partly failed", "failed": "failed",
          "refused": "refused", "queued": "queued", "running": "running"}


@dataclass(frozen=True)
class Outcome:
    key: str  # succeeded | partly_failed | failed | refused | queued | running
    counts: tuple[tuple[str, int], ...]  # (status label, count), non-zero only, in ORDER
    total: int
    done: int
    bad: int
    unfinished: int = 0  # of `bad`, skipped or interrupted: not failed

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def counts_text(self) -> str:
        return ", ".join(f"{n} {label}" for label, n in self.counts)

    @property
    def detail(self) -> str:
        """The text without its leading label, for beside the label's badge: "on all 3 nodes (3 changed)"
        where the whole line read "succeeded succeeded on all 3 nodes (3 changed)"."""
        text = self.text
        return text[len(self.label):].lstrip(": ") if text.startswith(self.label) else text

    @property
    def text(self) -> str:
        """One line: "partly failed: 2 of 5 nodes failed (3 changed, 2 failed)"; "running: 1 of 4 nodes done"."""
        if self.key == "refused":
            return "refused"
        if self.key in ("queued", "running"):
            return f"{self.label}: {self.done} of {self.total} node{'s' if self.total != 1 else ''} done" + (
                f" ({self.counts_text})" if self.done else "")
        if self.key == "succeeded":
            head = f"succeeded on {'all ' if self.total > 1 else ''}{self.total} node{'s' if self.total != 1 else ''}"
        elif self.key == "failed":
            head = f"failed on {'all ' if self.total > 1 else ''}{self.total} node{'s' if self.total != 1 else ''}"
        else:
            failed = self.bad - self.unfinished
            head = (f"partly failed: {failed} of {self.total} nodes failed, {self.unfinished} unfinished"
                    if failed and self.unfinished else
                    f"partly failed: {self.bad} of {self.total} nodes {'failed' if failed else 'unfinished'}")
        return f"{head} ({self.counts_text})" if self.counts else head


def outcome_from_counts(job_status: str, counts: Mapping[str, int]) -> Outcome:
    """The outcome of a job in `job_status` whose results have these counts per status (pure)."""
    counts = {s: n for s, n in counts.items() if n}
    total = sum(counts.values())
    busy = sum(counts.get(s, 0) for s in BUSY)
    bad = sum(counts.get(s, 0) for s in BAD)
    labels = dict(Status.choices)
    ordered = tuple((str(labels.get(s, s)), counts[s]) for s in ORDER if s in counts)
    if job_status == PushJob.Status.REFUSED:
        key = "refused"
    elif job_status in (PushJob.Status.QUEUED, PushJob.Status.RUNNING) or busy:
        key = str(job_status) if job_status in (PushJob.Status.QUEUED, PushJob.Status.RUNNING) else "running"
    elif total and bad == total:
        key = "failed"
    elif bad:
        key = "partly_failed"
    else:
        key = "succeeded"
    return Outcome(key, ordered, total, total - busy, bad, sum(counts.get(s, 0) for s in UNFINISHED))


def job_outcome(job: PushJob, results: Iterable[PushResult] | None = None) -> Outcome:
    """One job's outcome; from `results` when the caller has them already (no query)."""
    if results is None:
        counts = dict(job.results.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
    else:
        counts = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
    return outcome_from_counts(job.status, counts)


def jobs_outcomes(jobs: Iterable[PushJob]) -> dict[int, Outcome]:
    """Outcomes of many jobs in one query, by job id."""
    jobs = list(jobs)
    counts: dict[int, dict[str, int]] = {j.pk: {} for j in jobs}
    rows = (PushResult.objects.filter(job__in=jobs).order_by().values("job_id", "status").annotate(n=Count("id"))
            .values_list("job_id", "status", "n"))
    for job_id, status, n in rows:
        counts[job_id][status] = n
    return {j.pk: outcome_from_counts(j.status, counts[j.pk]) for j in jobs}


@dataclass(frozen=True)
class ReadyWait:
    """Nodes of a running job that wait for Ready in Kubernetes (the Ready gate), since the first began."""
    since: datetime
    nodes: str  # "a1, a2, a3 and 4 more"
    seconds: int  # the most it waits (REGUI_READY_WAIT)


def ready_wait(job: PushJob, results: Iterable[PushResult], named: int = 3) -> ReadyWait | None:
    """What the job page says while restarted nodes wait for Ready; None when none does (pure)."""
    if not job.is_active:
        return None
    waiting = sorted((r for r in results if r.status == Status.RUNNING and r.ready_since),
                     key=lambda r: r.node_name)
    if not waiting:
        return None
    names = ", ".join(r.node_name for r in waiting[:named])
    if len(waiting) > named:
        names += f" and {len(waiting) - named} more"
    return ReadyWait(min(r.ready_since for r in waiting if r.ready_since), names, int(settings.REGUI_READY_WAIT))
