"""A job's plan in the database: each result's step and chunk, and the first step's chunks to queue."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from .models import PushChunk, PushJob, PushResult
from .plan import Plan, Policy, push_plan


@dataclass(frozen=True)
class _Planned:
    name: str
    role: str


def job_policy(job: PushJob) -> Policy:
    return Policy.from_dict(job.policy, default_at_once=str(settings.REGUI_PUSH_CONCURRENCY))


def job_plan(job: PushJob, results: list[PushResult] | None = None) -> Plan:
    """The plan the job runs (or ran), from its results."""
    results = list(job.results.all()) if results is None else results
    return push_plan(job.cluster, [_Planned(r.node_name, r.role) for r in results], job_policy(job),
                     restart=job.restart, kind=job.kind, chunk_size=settings.REGUI_PUSH_CHUNK)


def place_results(job: PushJob, results: list[PushResult]) -> list[int]:
    """Give each (unsaved) result its step and chunk, and the job its first step; returns the first
    step's chunks, which the caller creates with the results (see first_chunks)."""
    plan = job_plan(job, results)
    for r in results:
        r.step, r.chunk = plan.step_of(r.node_name), plan.chunk_of(r.node_name)
    first = sorted({r.chunk for r in results if r.step == 0})
    job.step, job.chunks_left = 0, len(first)
    return first


def first_chunks(job: PushJob, first: list[int]) -> None:
    PushChunk.objects.bulk_create([PushChunk(job=job, index=c, step=0) for c in first], ignore_conflicts=True)


def plan_results(job: PushJob) -> list[int]:
    """Put each saved result in its step and chunk, and make the first step's chunks (queued): for a job
    recorded without a plan. Returns their indexes. Twice is harmless: the same plan again, and chunks
    that exist are kept."""
    results = list(job.results.all())
    first = place_results(job, results)
    places: dict[tuple[int, int], list[int]] = defaultdict(list)
    for r in results:
        places[(r.step, r.chunk)].append(r.pk)
    with transaction.atomic():
        # One UPDATE per step and chunk: bulk_update's CASE per row cost more CPU than the push's SSH.
        for (step, chunk), ids in places.items():
            for i in range(0, len(ids), 500):
                PushResult.objects.filter(pk__in=ids[i:i + 500]).update(step=step, chunk=chunk)
        first_chunks(job, first)
        PushJob.objects.filter(pk=job.pk).update(step=0, chunks_left=len(first))
    return first
