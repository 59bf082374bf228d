"""Pushes: create a job (with its rolling plan), re-run what a job left unfinished, a cluster's policy.
Tasks and views call these; running a job is rolling.py, one node's push nodepush.py."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from regui.audit import context as audit_context
from regui.audit.services import audit_object
from regui.core.bulk_sql import insert_objects
from regui.inventory.models import Node
from regui.registries.models import Cluster

from .files import RenderRefused, check_render, render_digest
from .jobplan import first_chunks, job_policy, place_results
from .joining import identical_job, join_record, replays, token_job
from .models import PushJob, PushPolicy, PushResult
from .nodepush import _finish, node_push  # noqa: F401  (imported from here by callers and tests)
from .outcomes import job_fail
from .plan import Policy, policy_problem
from .rolling import PUSH_TASK, celery_send, push_job_run, run_inline  # noqa: F401  (likewise)
from .targets import keyless_refusal

log = logging.getLogger(__name__)
Status = PushResult.Status


def cluster_policy(cluster: Cluster) -> PushPolicy:
    """The cluster's defaults (unsaved ones when never set)."""
    try:
        return cluster.push_policy
    except PushPolicy.DoesNotExist:
        return PushPolicy(cluster=cluster)


def effective_policy(cluster: Cluster, overrides: dict[str, Any] | None = None) -> Policy:
    """The cluster's defaults, with what a push chose instead (None or "" in `overrides`: the default)."""
    base = cluster_policy(cluster)
    values = {name: getattr(base, name) for name in PushPolicy.AUDIT_FIELDS}
    values.update({k: v for k, v in (overrides or {}).items() if k in values and v not in (None, "")})
    return Policy(agents_at_once=str(values["agents_at_once"] or settings.REGUI_PUSH_CONCURRENCY),
                  max_failures=int(values["max_failures"] or 0), pause_seconds=int(values["pause_seconds"] or 0),
                  ready_gate=bool(values["ready_gate"]))


def push_policy_save(*, cluster: Cluster, values: dict[str, Any]) -> PushPolicy:
    """Set the cluster's defaults, recording what changed in its history."""
    # From the database: a form's instance was changed already by its validation.
    policy = PushPolicy.objects.filter(cluster=cluster).first() or PushPolicy(cluster=cluster)
    before = {name: getattr(policy, name) for name in PushPolicy.AUDIT_FIELDS}
    for name in PushPolicy.AUDIT_FIELDS:
        if name in values:
            setattr(policy, name, values[name])
    after = {name: getattr(policy, name) for name in PushPolicy.AUDIT_FIELDS}
    changes = {f"push {name.replace('_', ' ')}": [before[name], after[name]] for name in after
               if before[name] != after[name]}
    if changes or policy._state.adding:
        policy.save()
    if changes:
        audit_object(cluster, "update", changes)
    return policy


def push_job_create(*, cluster: Cluster, user=None, nodes: list[Node] | None = None, restart: bool = True,
                    kind: str = PushJob.Kind.PUSH, policy: Policy | None = None,
                    origin: PushJob | None = None, started_by: str = "", checked: str = "",
                    token: str = "") -> PushJob:
    """Record a job for the given nodes (all by default) with its plan, and queue its first step;
    refused renders never queue. `started_by` names a starter that is no user (DRIFT_WATCH_ACTOR): a
    periodic drift check writes no entry of its own (the watch records what changed). `checked`: the
    redacted render that check_render passed in this request (the confirmation's), not checked a second
    time before the click's job is queued; each chunk renders again and checks whatever differs from it."""
    nodes = list(cluster.nodes.all()) if nodes is None else nodes
    policy = policy or effective_policy(cluster)
    actor = audit_context.current()
    # The revision as stored now: the caller's row may be older, and the job says what it pushes.
    cluster.revision = Cluster.objects.values_list("revision", flat=True).get(pk=cluster.pk)
    job = PushJob(cluster=cluster, kind=kind, restart=restart, revision=cluster.revision, policy=policy.as_dict(),
                  origin=origin, created_by=user if getattr(user, "is_authenticated", False) else None,
                  created_by_name=getattr(user, "username", "") or started_by, request_id=actor.request_id,
                  source_ip=actor.source_ip, confirm_token=token)
    try:
        if not nodes:
            raise RenderRefused("No nodes to push to: add nodes to the cluster first.")
        if kind == PushJob.Kind.PUSH:
            job.checked_render = render_digest(checked or check_render(cluster))
            _check_policy(cluster, policy, restart)
    except (RenderRefused, ValueError) as exc:
        job.status, job.message, job.finished_at = PushJob.Status.REFUSED, str(exc), timezone.now()
        job.save()
        if not job.periodic:
            audit_object(job, "push", {"status": [None, "refused"]}, revision=cluster.revision, message=str(exc))
        return job
    # Planned before anything is written: the job, its results and its first chunks go in three INSERTs.
    results = [PushResult(job=job, node=n, node_name=n.name, role=n.role) for n in nodes]
    first = place_results(job, results)
    # No savepoint inside a request's transaction (push_job_request): nothing here is tried and undone.
    with transaction.atomic(savepoint=False):
        job.save()
        # Not bulk_create: its per-value preparation took 1.35 ms of CPU for 30 results, this 0.37, before
        # the job is queued (nothing reads the results' ids here).
        for r in results:
            r.job_id = job.pk  # made before the job had one
        insert_objects(PushResult, [*results])
        first_chunks(job, first)
        if not job.periodic:
            audit_object(job, "push", {"nodes": [None, [n.name for n in nodes]], "restart": [None, restart],
                                       "kind": [None, kind], "policy": [None, policy.as_dict()]},
                         revision=cluster.revision)
        # Ids only: the worker reads everything else (secrets included) from the database itself.
        transaction.on_commit(lambda: queue_chunks(job.pk, first))
    return job


@dataclass(frozen=True)
class Requested:
    """What a person's request for a push came to: `how` is "new" (this job was made for it), "joined" (an
    identical job not finished takes it: joining.py) or "again" (this confirmation's POST made it already)."""

    job: PushJob
    how: str


def push_job_request(*, cluster: Cluster, user=None, nodes: list[Node], restart: bool = True,
                     kind: str = PushJob.Kind.PUSH, policy: Policy | None = None, origin: PushJob | None = None,
                     checked: str = "", token: str = "") -> Requested:
    """A push (or drift check) a person asks for: the job it makes, or the one that already does exactly
    this (joining.py), whose history then records who asked. `token`: the confirmation page's."""
    policy = policy or effective_policy(cluster)
    with transaction.atomic():
        # Serializes two requests for one cluster (and a save of its registries): the second sees the
        # first's job. NO KEY: the job's and others' inserts that refer to the cluster are not held up.
        locked = Cluster.objects.select_for_update(no_key=True).get(pk=cluster.pk)
        owner = token_job(locked, token)
        if owner is not None and replays(owner, nodes, restart=restart, policy=policy):
            return Requested(owner, "again")
        if job := identical_job(locked, nodes, kind=kind, restart=restart, policy=policy):
            join_record(job, nodes)
            return Requested(job, "joined")
        job = push_job_create(cluster=locked, user=user, nodes=nodes, restart=restart, kind=kind, policy=policy,
                              origin=origin, checked=checked, token="" if owner else token)
    return Requested(job, "new")


def policy_refusal(cluster: Cluster, policy: Policy, restart: bool) -> str:
    """Why a push with this policy cannot run ("" when it can); the confirmation page says it first."""
    try:
        _check_policy(cluster, policy, restart)
    except ValueError as exc:
        return str(exc)
    return ""


def _check_policy(cluster: Cluster, policy: Policy, restart: bool) -> None:
    if problem := policy_problem(policy):
        raise ValueError(problem)
    if policy.ready_gate and restart and not cluster.nodes.filter(role=Node.Role.SERVER).exists():
        raise ValueError("Waiting for Ready asks a server's kubectl: add the cluster's servers as nodes, or push "
                         "without waiting for Ready.")


def queue_chunks(job_id: int, chunks: list[int]) -> None:
    """Send the chunks to the workers; in Celery's eager mode (tests) each runs here, now, through its
    task (whose signals fire), at once in threads as workers would. A broker that refuses ends the job
    as failed, with the reason, instead of leaving it queued."""
    try:
        if current_app.conf.task_always_eager:
            _run_eagerly(job_id, chunks)
        else:
            celery_send(job_id, chunks)
    except Exception as exc:
        if current_app.conf.task_always_eager and current_app.conf.task_eager_propagates:
            raise
        log.exception("push job %s could not be queued", job_id)
        job_fail(job_id, None, exc)


def _run_eagerly(job_id: int, chunks: list[int]) -> None:
    tasks = [current_app.signature(PUSH_TASK, args=[job_id, c]) for c in chunks]
    if len(tasks) == 1:
        tasks[0].delay()
        return
    failed: list[BaseException] = []

    def run(task: Any) -> None:
        try:
            task.delay()
        except BaseException as exc:  # raised where the caller can see it, as eager mode does
            failed.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in tasks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failed:
        raise failed[0]


class RevisionChanged(RenderRefused):
    """A push's re-run refused because the registries changed since: the new revision was never shown."""


def unfinished_nodes(job: PushJob) -> list[Node]:
    """The nodes `job` left unfinished (interrupted, skipped, never reached) that still exist."""
    results = job.results.filter(status__in=PushResult.UNFINISHED, node__isnull=False)
    return list(Node.objects.filter(pk__in=results.values("node_id")).select_related("cluster").order_by("name"))


def failed_nodes_of(job: PushJob) -> list[Node]:
    """The nodes that failed or were unreachable in `job`, a push that has ended, and still exist: what
    its page offers to push again (through the confirmation). None for a drift check (it pushed nothing)
    or a job still running (its other nodes may yet fail)."""
    if job.kind != PushJob.Kind.PUSH or job.is_active:
        return []
    results = job.results.filter(status__in=PushResult.FAILED_HERE, node__isnull=False)
    return list(Node.objects.filter(pk__in=results.values("node_id")).select_related("cluster").order_by("name"))


def rerun_refusal(job: PushJob, cluster: Cluster) -> str:
    """Why a one-click re-run of `job` may not push ("" when it may): the re-run pushes the job's own
    revision, so a newer one has to go through the confirmation page, which shows what it changes."""
    if job.kind != PushJob.Kind.PUSH or job.revision is None or job.revision == cluster.revision:
        return ""
    return (f"The registries changed since job {job.pk} (revision {job.revision} → {cluster.revision}): push the "
            "new revision through the confirmation instead.")


def push_job_rerun(job: PushJob, user=None) -> PushJob:
    """A new job, with the same choices, for exactly the nodes `job` left unfinished that still exist.
    Nodes already at the target report "unchanged". Refused (RevisionChanged) when the cluster's
    revision is no longer the job's."""
    return push_job_rerun_request(job, user).job


def push_job_rerun_request(job: PushJob, user=None) -> Requested:
    """push_job_rerun as a person's request: an unfinished job that pushes those nodes already, with the
    same choices, takes it (push_job_request), as when a double click sends it twice."""
    nodes = unfinished_nodes(job)
    if not nodes:
        raise RenderRefused("Nothing to re-run: every node of this job finished.")
    cluster = Cluster.objects.get(pk=job.cluster_id)  # as it is now, not as the caller read it
    if refusal := rerun_refusal(job, cluster):
        raise RevisionChanged(refusal)
    if job.kind == PushJob.Kind.PUSH and (refusal := keyless_refusal(nodes)):
        raise RenderRefused(refusal)  # as the confirmation page would say
    return push_job_request(cluster=cluster, user=user, nodes=nodes, restart=job.restart, kind=job.kind,
                            policy=job_policy(job), origin=job)
