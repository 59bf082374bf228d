from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from regui.audit.models import Revision
from regui.core.htmx import wants_fragment
from regui.core.roles import OPERATOR, require_role
from regui.inventory.models import Node
from regui.registries.models import Cluster

from .confirm_views import confirm_redirect, requested_redirect
from .files import RenderRefused
from .forms import PushChoicesForm
from .jobplan import job_plan, job_policy
from .joining import joined_askers
from .liveness import WorkerWatch
from .models import PushJob, PushResult
from .outcome import job_outcome, jobs_outcomes, ready_wait
from .services import (
    RevisionChanged,
    effective_policy,
    failed_nodes_of,
    push_job_request,
    push_job_rerun_request,
    rerun_refusal,
)


@require_role(OPERATOR)
def node_push(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    """An older address of a node's Push: its confirmation page, where the push is queued (or refused)."""
    node = get_object_or_404(Node.objects.select_related("cluster"), pk=pk, cluster__name=name)
    if request.method != "POST":
        return redirect("node-detail", name, pk)
    response = confirm_redirect(name, {"node": str(node.pk), "write_only": request.POST.get("write_only", "")})
    if wants_fragment(request):  # htmx follows a redirect in place: have it load the page instead
        return HttpResponse(status=204, headers={"HX-Redirect": response["Location"]})
    return response


@require_role(OPERATOR)
def cluster_push(request: HttpRequest, name: str) -> HttpResponse:
    """The node list's push form. A push (to all nodes, or to the failed ones) goes through its
    confirmation page, which shows the plan and refuses what may not be pushed; a drift check (read
    only) and "Re-run unfinished nodes" of an ended job start at once."""
    cluster = get_object_or_404(Cluster, name=name)
    if request.method != "POST":
        return redirect("node-list", name)
    scope = request.POST.get("scope", "all")
    if scope == "rerun":
        return _rerun(request, cluster)
    if scope != "drift":
        return confirm_redirect(name, request.POST)
    choices = PushChoicesForm(request.POST)
    if not choices.is_valid():
        messages.error(request, f"Nothing was checked: {choices.problems()}")
        return redirect("node-list", name)
    asked = push_job_request(cluster=cluster, user=request.user, kind=PushJob.Kind.DRIFT,
                             nodes=list(cluster.nodes.all()), policy=effective_policy(cluster, choices.overrides()))
    if asked.job.status == PushJob.Status.REFUSED:
        messages.error(request, f"Nothing was checked: {asked.job.message}")
        return redirect("node-list", name)
    return requested_redirect(request, asked)


def _rerun(request: HttpRequest, cluster: Cluster) -> HttpResponse:
    """"Re-run unfinished nodes" on a job page: a new job for exactly those, with the same choices."""
    raw = request.POST.get("job", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) < 19):
        messages.error(request, "Which job to re-run is missing.")
        return redirect("job-list", cluster.name)
    source = get_object_or_404(PushJob, pk=int(raw), cluster=cluster)
    if source.is_active:
        messages.error(request, "Only a job that has ended can be re-run.")
        return redirect("job-detail", source.pk)
    try:
        asked = push_job_rerun_request(source, user=request.user)
    except RevisionChanged as exc:
        messages.error(request, f"Nothing was pushed: {exc}")
        return redirect("job-detail", source.pk)
    except RenderRefused as exc:
        messages.info(request, str(exc))
        return redirect("job-detail", source.pk)
    if asked.job.status == PushJob.Status.REFUSED:
        messages.error(request, f"Nothing was pushed: {asked.job.message}")
        return redirect("job-detail", source.pk)
    return requested_redirect(request, asked)


def _job_key(job: PushJob) -> str:
    """What the job page's fingerprint is made of: the sync key of the revision the job wrote or checked
    (its render is that revision's), never the file's bytes (core/fingerprints.py)."""
    if not job.sha256 or job.revision is None:
        return ""
    return Revision.objects.filter(cluster=job.cluster, number=job.revision).values_list(
        "sync_key", flat=True).first() or ""


def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job page; for htmx, only the results table (polled every second while the job runs)."""
    job = get_object_or_404(PushJob.objects.select_related("cluster", "origin"), pk=pk)
    results = list(job.results.all())
    wait = WorkerWatch().job_wait(job) if job.is_active else None
    template = "pushes/partials/_job_results.html" if wants_fragment(request) else "pushes/job_detail.html"
    unfinished = [r for r in results if r.status in PushResult.UNFINISHED and r.node_id]
    return render(request, template, {
        "job": job, "cluster": job.cluster, "results": results, "wait": wait, "poll": wait.poll if wait else 1,
        "job_key": "" if wants_fragment(request) else _job_key(job),
        "askers": [] if wants_fragment(request) else joined_askers(job),
        "outcome": job_outcome(job, results), "plan": job_plan(job, results) if results else None,
        "ready_wait": ready_wait(job, results),
        "followups": job.followups.order_by("pk"), "unfinished": len(unfinished) if not job.is_active else 0,
        # A job that ended (interrupted, failed) while a live worker still pushes some of its nodes.
        "polled": job.is_active or any(r.status == PushResult.Status.RUNNING for r in results),
        "rerun_refusal": rerun_refusal(job, job.cluster), "rerun_confirm": _confirm_query(job, "rerun"),
        # Failed or unreachable nodes of an ended push: pushed again through the confirmation, as every push.
        "retry": len(failed_nodes_of(job)), "retry_confirm": _confirm_query(job, "retry")})


def _confirm_query(job: PushJob, scope: str) -> str:
    """The confirmation page's query for pushing the current revision to what `job` left unfinished
    ("rerun") or failed on ("retry"), with the job's own choices."""
    p = job_policy(job)
    query = {"scope": scope, "job": job.pk, "agents_at_once": p.agents_at_once, "max_failures": p.max_failures,
             "pause_seconds": p.pause_seconds, "ready_gate": "1" if p.ready_gate else "0"}
    if not job.restart:
        query["write_only"] = "1"
    return urlencode(query)


def job_list(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    jobs = list(cluster.push_jobs.all()[:50])
    outcomes = jobs_outcomes(jobs)
    rows = [(j, outcomes[j.pk]) for j in jobs]
    return render(request, "pushes/job_list.html", {"cluster": cluster, "jobs": jobs, "rows": rows})
