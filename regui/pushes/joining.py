"""Asking for a push that is already on its way: the request joins that job instead of queueing another.

A double click, a browser retrying the confirmation's POST, or a second operator pressing the same
button used to queue a second job: it waited on the node locks, pushed every node again ("unchanged"),
restarted again a node whose restart had failed in the first, showed two jobs, and with a long rolling
first job its nodes failed "held for too long". Now a request joins a job when:

- the job has not ended (queued or running), is a push (or a drift check) of the same kind and cluster,
  started by a person (never a drift watch's own check), for the revision the cluster is at now (so the
  same render and secret values: saving either makes a new revision);
- it restarts alike (write only or not) and rolls with the same policy (agents at once, stop after
  failures, pause, wait for Ready): another policy is another push;
- every node asked for is still to come in it (pending, or being pushed now): a subset of a queued job's
  nodes joins it; a node a running job has finished is pushed again by a job of its own (it may have
  failed), and a node the job does not hold at all makes a new job for the whole request.

Two requests at once are serialized on the cluster's row (SELECT ... FOR NO KEY UPDATE, which saves of
the registries take too), so the second sees the first's job. The confirmation page carries a token:
its POST sent again (a browser's retry, a second click) lands on the job it made even after it ended, and
is told again why nothing was pushed when its job was refused (a fresh page asks anew).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q

from regui.audit.models import AuditEvent, ObjectType
from regui.audit.services import audit_object
from regui.inventory.models import Node
from regui.registries.models import Cluster

from .models import DRIFT_WATCH_ACTOR, PushJob, PushResult
from .plan import Policy

OPEN = (PushResult.Status.PENDING, PushResult.Status.RUNNING)
# The key of a push entry recording a request that joined the job (AuditEvent.action_text reads it).
JOINED = "asked_again_for"


def identical_job(cluster: Cluster, nodes: Iterable[Node], *, kind: str, restart: bool,
                  policy: Policy) -> PushJob | None:
    """The newest unfinished job that pushes every one of `nodes` as asked (see the module's rules);
    `cluster` as locked by the caller, its revision current. One query, however many nodes and jobs."""
    wanted = {n.pk for n in nodes}
    if not wanted:
        return None
    candidates = (PushJob.objects.filter(cluster=cluster, kind=kind, restart=restart, revision=cluster.revision,
                                         status__in=PushJob.ACTIVE)
                  .exclude(created_by__isnull=True, created_by_name=DRIFT_WATCH_ACTOR)
                  .annotate(holds=Count("results", filter=Q(results__status__in=OPEN, results__node_id__in=wanted)))
                  .filter(holds=len(wanted)).order_by("-pk"))
    return next((job for job in candidates if _same_policy(job, policy)), None)


def token_job(cluster: Cluster, token: str) -> PushJob | None:
    """The job made by the confirmation whose token this is."""
    return PushJob.objects.filter(cluster=cluster, confirm_token=token).first() if token else None


def replays(job: PushJob, nodes: Iterable[Node], *, restart: bool, policy: Policy) -> bool:
    """Whether a confirmation sent again asks for what its job (token_job) does: a page sent again after
    its write-only box or its nodes were changed is another request. A refused job holds no nodes (none
    were planned): the same page sent again is refused the same way, whatever has changed since."""
    if job.restart != restart or not _same_policy(job, policy):
        return False
    if job.status == PushJob.Status.REFUSED:
        return True
    return set(job.results.values_list("node_id", flat=True)) == {n.pk for n in nodes}


def _same_policy(job: PushJob, policy: Policy) -> bool:
    return Policy.from_dict(job.policy, policy.agents_at_once) == policy


def join_record(job: PushJob, nodes: Iterable[Node]) -> None:
    """History: who asked for `job`'s push again, for which nodes (the job's own entry names its starter)."""
    names = sorted(n.name for n in nodes)
    audit_object(job, "push", {JOINED: [None, names]}, revision=job.revision,
                 message=f"asked for the same push while job #{job.pk} was {job.status}: no second job was queued")


def joined_askers(job: PushJob) -> list[str]:
    """Who else asked for `job`'s push while it was on its way (join_record), first first, each once, with
    the nodes they asked for when not all of the job's ("bob (a3)"): should the job stop or be interrupted
    before them, its page says whose nodes were skipped."""
    asked: dict[str, set[str]] = {}
    for name, changes in AuditEvent.objects.filter(
            object_type=ObjectType.PUSH_JOB, object_id=str(job.pk), changes__has_key=JOINED).order_by("id").values_list(
            "actor_name", "changes"):
        asked.setdefault(name or "system", set()).update((changes[JOINED] or [None, []])[1] or [])
    every = set(job.results.values_list("node_name", flat=True))
    return [name if nodes >= every else f"{name} ({', '.join(sorted(nodes))})" for name, nodes in asked.items()]
