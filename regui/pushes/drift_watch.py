"""Drift watch: a periodic drift check per cluster (off by default), with history and notifications.

A beat task (`regui.drift_watch_tick`, every minute) does two things for each watched cluster:
it reads the outcome of the watch's last drift job once that job has finished (history entries for
the nodes whose state changed), then starts a new drift job when one is due. Only then does it send
the notifications, so that a slow or dead receiver delays no cluster's check; what could not be sent
is said on the job. Jobs start through `push_job_create(kind=drift)`, the same path and trust gate as
"Check drift".

Notifications name the cluster, the nodes, their states and the file's fingerprint
(core/fingerprints.py): never a file's sha256 (derived from the secret values), never a secret.

"Out of date" is no drift: the node holds what regui last wrote there and the registries were saved
since (a push sends the new file). A node going between in sync and out of date is no change: no history
entry, no notification; out-of-date nodes are only counted, apart, in the next notice. A node whose last
restart failed (in sync or out of date, restart pending) is a state of its own, "restart_failed": K3s
has not read its file, and that is news.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.utils import timezone

from regui.audit.labels import state_words
from regui.audit.models import AuditEvent, ObjectType
from regui.audit.services import audit_event
from regui.core.crypto import KeyringError
from regui.core.fingerprints import file_fingerprint
from regui.inventory.models import Node
from regui.registries.models import Cluster

from .drift_watch_models import DriftWatch
from .drift_webhook import webhook_deliver
from .models import DRIFT_WATCH_ACTOR, PushJob, PushResult
from .services import push_job_create

log = logging.getLogger(__name__)
TICK_TASK = "regui.drift_watch_tick"
# Beat's ticks come a minute apart, give or take a little: a check due a moment after this tick is due
# at this tick, or a watch every minute would often check every two.
TICK_SLACK = timedelta(seconds=30)

# What a drift check's result says of its node, as the watch tracks it: machine words, kept as such in
# its states, history entries' changes and the webhook's JSON; people read them through audit.labels.state_words.
WATCHED: dict[str, str] = {PushResult.Status.IN_SYNC.value: "in_sync", PushResult.Status.DRIFTED.value: "drifted",
                           PushResult.Status.OUT_OF_DATE.value: "out_of_date",
                           PushResult.Status.UNREACHABLE.value: "unreachable",
                           PushResult.Status.FAILED.value: "failed"}
# Nodes holding what regui wrote there: between these only a save moved (history has it), nothing to tell.
QUIET = frozenset({"in_sync", "out_of_date"})
RESTART_FAILED = "restart_failed"


def watched_state(result: PushResult, restart_failed: set[int]) -> str | None:
    """What the watch tracks of a check's node: its result's state, or restart_failed for a node that
    holds regui's file but whose last restart failed (`restart_failed`: such nodes' ids)."""
    state = WATCHED.get(result.status)
    if state in QUIET and result.node_id in restart_failed:
        return RESTART_FAILED
    return state


def is_due(watch: DriftWatch, now: datetime) -> bool:
    """On, not running a job now, and its interval passed since the last start (or never started)."""
    if watch.interval_minutes <= 0:
        return False
    if watch.last_job_id and watch.last_job is not None and watch.last_job.is_active:
        return False
    if watch.last_started_at is None:
        return True
    return now - watch.last_started_at >= timedelta(minutes=watch.interval_minutes) - TICK_SLACK


@dataclass(frozen=True)
class Change:
    node: str
    before: str | None
    after: str
    fingerprint: str
    node_id: int | None


@dataclass(frozen=True)
class Notice:
    """What a collected job found, to be sent once every due check has started."""
    watch: DriftWatch
    job: PushJob
    changes: list[Change]
    body: dict[str, Any]


def changes_between(before: dict[str, str], results: list[PushResult],
                    restart_failed: set[int] | None = None) -> list[Change]:
    """Nodes whose state changed. A node seen for the first time counts only when it is not in sync (nor
    merely out of date); in sync to out of date and back is no change (QUIET)."""
    out = []
    for r in results:
        after = watched_state(r, restart_failed or set())
        if after is None:
            continue
        old = before.get(r.node_name)
        if old == after or (after in QUIET and (old is None or old in QUIET)):
            continue
        out.append(Change(r.node_name, old, after, file_fingerprint(r.key_before or r.key_after), r.node_id))
    return out


def cluster_state(states: dict[str, str]) -> str | None:
    """The cluster's drift state in a word or two: "in_sync", or what its nodes are instead
    ("drifted", "drifted, unreachable"); None before any check."""
    if not states:
        return None
    off = sorted({s for s in states.values() if s not in QUIET})
    return ", ".join(off) if off else "in_sync"


def notification(cluster: Cluster, job: PushJob, changes: list[Change], states: dict[str, str]) -> dict[str, Any]:
    """The JSON body a webhook receives (and the email's text): no sha256, no secret value. `counts` has
    every state, out_of_date among them (counted, never a change: see QUIET)."""
    return {
        "event": "drift_watch", "cluster": cluster.name, "job": job.pk,
        "time": timezone.now().isoformat(), "counts": _counts(states),
        "changes": [{"node": c.node, "before": c.before or "unknown", "after": c.after,
                     "fingerprint": c.fingerprint or None} for c in changes],
    }


def _counts(states: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in states.values():
        counts[s] = counts.get(s, 0) + 1
    return counts


def email_text(body: dict[str, Any]) -> tuple[str, str]:
    subject = f"[regui] drift on cluster {body['cluster']}"
    lines = [f"Drift check #{body['job']} of cluster {body['cluster']}:", ""]
    lines += [f"  {c['node']}: {state_words(c['before'])} -> {state_words(c['after'])}"
              + (f" (file fingerprint {c['fingerprint']})" if c["fingerprint"] else "") for c in body["changes"]]
    lines += ["", "Nodes: " + ", ".join(f"{n} {state_words(k)}" for k, n in sorted(body["counts"].items()))]
    if out_of_date := body["counts"].get("out_of_date"):
        lines += [f"{out_of_date} out of date: not drift; they hold what regui last wrote there, and the "
                  "registries were saved since. A push sends the new file."]
    return subject, "\n".join(lines) + "\n"


def notify(watch: DriftWatch, body: dict[str, Any]) -> list[str]:
    """Send the body to the webhook and the addresses; returns what could not be sent, in words a page
    may show."""
    problems = []
    if watch.sealed and (problem := _webhook_send(watch, body)):
        problems.append(f"webhook not delivered ({problem})")
    if watch.recipients:
        subject, text = email_text(body)
        try:
            send_mail(subject, text, None, watch.recipients)
        except Exception as exc:  # a mail server's failure must not stop the watch
            log.exception("drift watch email for cluster %s failed", watch.cluster.name)
            problems.append(f"email not sent ({type(exc).__name__})")
    return problems


def _webhook_send(watch: DriftWatch, body: dict[str, Any]) -> str:
    """Open the sealed URL only now, for this POST; what went wrong ("" when delivered)."""
    try:
        url = watch.unseal_webhook()
    except KeyringError as exc:  # a key dropped from the ring: said on the job, and the watch goes on
        log.warning("drift watch of cluster %s: webhook not delivered: %s", watch.cluster.name, exc)
        return f"cannot open its URL: {exc}"
    return webhook_deliver(url, body)


def send(notice: Notice) -> None:
    """Notify; the job's message (which names what the check found) also says what was not sent."""
    if problems := notify(notice.watch, notice.body):
        message = "; ".join([notice.job.message, *problems])[:2000]
        PushJob.objects.filter(pk=notice.job.pk).update(message=message)
        notice.job.message = message


def collect(watch: DriftWatch) -> list[Change]:
    """Read the finished last job once: record and notify the nodes whose state changed."""
    notice = record(watch)
    if notice is None:
        return []
    send(notice)
    return notice.changes


def record(watch: DriftWatch) -> Notice | None:
    """Read the finished last job once: record the nodes whose state changed; the notice to send, if any."""
    job = watch.last_job
    if job is None or job.is_active or watch.collected_job_id == job.pk:
        return None
    results = list(job.results.all())
    with transaction.atomic():
        # Ticks may overlap (a slow webhook, two workers): the first to mark the job collected records
        # and notifies; the others find it marked (the UPDATE waits for the first's commit) and stop.
        # A tick that loaded the watch long ago may hold a job older than the one collected since:
        # only the watch's last job is collected.
        if not DriftWatch.objects.filter(pk=watch.pk, last_job=job).exclude(collected_job_id=job.pk).update(
                collected_job_id=job.pk):
            return None
        recorded = DriftWatch.objects.values_list("node_states", flat=True).get(pk=watch.pk)
        # Nodes removed from the cluster (or renamed) since leave the watch's states; one that was not in
        # sync is a change ("removed"): what was told of it (drifted, unreachable) gets its end.
        rows = Node.objects.filter(cluster=watch.cluster).values_list("pk", "name", "restart_pending", "restart_failed")
        present = {pk: name for pk, name, _, _ in rows}
        restart_failed = {pk for pk, _, pending, failed in rows if pending and failed}
        known = {name: state for name, state in recorded.items() if name in present.values()}
        results = [r for r in results if present.get(r.node_id or 0) == r.node_name]
        gone = [Change(name, state, "removed", "", None) for name, state in sorted(recorded.items())
                if name not in known and state not in QUIET]
        changes = gone + changes_between(known, results, restart_failed)
        states = {**known, **{r.node_name: state for r in results
                              if (state := watched_state(r, restart_failed)) is not None}}
        nodes = Node.objects.select_related("cluster").in_bulk([c.node_id for c in changes if c.node_id])
        for c in changes:
            node = nodes.get(c.node_id or 0)
            audit_event(action=AuditEvent.Action.UPDATE, object_type=ObjectType.NODE, object_id=c.node_id or "",
                        object_repr=c.node, cluster=watch.cluster, node=node, revision=job.revision,
                        changes={"drift_watch": [c.before, c.after]},
                        message=f"drift watch: {c.node} is {state_words(c.after)}").save()
        before, after = cluster_state(recorded), cluster_state(states)
        if after is not None and after != before and (before is not None or after != "in_sync"):
            counts = ", ".join(f"{n} {state_words(k)}" for k, n in sorted(_counts(states).items()))
            audit_event(action=AuditEvent.Action.UPDATE, object_type=ObjectType.CLUSTER, object_id=watch.cluster.pk,
                        object_repr=watch.cluster.name, cluster=watch.cluster, revision=job.revision,
                        changes={"drift_state": [before, after]},
                        message=f"drift watch: cluster {watch.cluster.name} is {state_words(after)} ({counts})"
                        ).save()
        DriftWatch.objects.filter(pk=watch.pk).update(node_states=states)
        watch.node_states, watch.collected_job_id = states, job.pk
        if changes:  # the job page and list say what this check found; it is kept (see quiet_checks_prune)
            job.message = ("drift watch: " + ", ".join(f"{c.node} {state_words(c.after)}" for c in changes))[:2000]
            job.save(update_fields=["message"])
        quiet_checks_prune(watch)
    return Notice(watch, job, changes, notification(watch.cluster, job, changes, states)) if changes else None


def quiet_checks_prune(watch: DriftWatch) -> int:
    """A watch every few minutes would fill the job list with checks that found nothing new: of those,
    only the newest REGUI_DRIFT_WATCH_KEEP_QUIET stay. Checks that found a change (their message says
    which), failed or were interrupted are kept, as are a person's checks. A check of a cluster with no
    node is refused, at every interval: those count as quiet."""
    periodic = PushJob.objects.filter(cluster=watch.cluster, kind=PushJob.Kind.DRIFT, created_by__isnull=True,
                                      created_by_name=DRIFT_WATCH_ACTOR)
    newest = list(periodic.order_by("-created_at", "-pk").values_list("pk", flat=True)
                  [:settings.REGUI_DRIFT_WATCH_KEEP_QUIET])
    quiet = models.Q(status=PushJob.Status.DONE, message="") | models.Q(status=PushJob.Status.REFUSED)
    old = periodic.filter(quiet).exclude(pk__in=[*newest, watch.last_job_id or 0])
    return old.delete()[1].get(PushJob._meta.label, 0)


def drift_watch_tick(now: datetime | None = None) -> list[PushJob]:
    """Collect finished jobs and start the due ones, then notify. Returns the jobs started."""
    now = now or timezone.now()
    started, notices = [], []
    for watch in DriftWatch.objects.select_related("cluster", "last_job").filter(
            models.Q(interval_minutes__gt=0) | models.Q(last_job__isnull=False)):
        try:
            if notice := record(watch):
                notices.append(notice)
            if job := watch_start(watch, now):
                started.append(job)
        except Exception:  # one cluster's trouble (deleted as its check starts...) stops no other's check
            log.exception("drift watch of cluster %s failed at this tick", watch.cluster.name)
    # Last: a receiver that is slow or down (a timeout per attempt, and retries) delays no check.
    for notice in notices:
        try:
            send(notice)
        except Exception:
            log.exception("drift watch notification for cluster %s failed", notice.watch.cluster.name)
    return started


def watch_start(watch: DriftWatch, now: datetime) -> PushJob | None:
    """Start the watch's check if it is due and no overlapping tick started it first."""
    if not is_due(watch, now):
        return None
    if not DriftWatch.objects.filter(pk=watch.pk, last_started_at=watch.last_started_at).update(last_started_at=now):
        return None
    job = push_job_create(cluster=watch.cluster, kind=PushJob.Kind.DRIFT, started_by=DRIFT_WATCH_ACTOR)
    DriftWatch.objects.filter(pk=watch.pk).update(last_job=job)
    watch.last_job, watch.last_started_at = job, now
    return job

