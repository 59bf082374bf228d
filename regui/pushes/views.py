from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from regui.core.roles import OPERATOR, require_role
from regui.inventory.selectors import failed_nodes
from regui.registries.models import Cluster

from .models import PushJob
from .services import push_job_create


@require_role(OPERATOR)
def cluster_push(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    if request.method != "POST":
        return redirect("node-list", name)
    scope = request.POST.get("scope", "all")
    kind = PushJob.Kind.DRIFT if scope == "drift" else PushJob.Kind.PUSH
    nodes = failed_nodes(cluster) if scope == "failed" else None
    if scope == "failed" and not nodes:
        messages.info(request, "No node failed in its last push.")
        return redirect("node-list", name)
    job = push_job_create(cluster=cluster, user=request.user, nodes=nodes, kind=kind,
                          restart=not request.POST.get("write_only"))
    if job.status == PushJob.Status.REFUSED:
        messages.error(request, f"Nothing was pushed: {job.message}")
        return redirect("node-list", name)
    return redirect("job-detail", job.pk)


def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job page; for htmx, only the results table (polled every second while the job runs)."""
    job = get_object_or_404(PushJob.objects.select_related("cluster"), pk=pk)
    results = job.results.all()
    template = "pushes/partials/_job_results.html" if request.htmx else "pushes/job_detail.html"
    return render(request, template, {"job": job, "cluster": job.cluster, "results": results})


def job_list(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    jobs = cluster.push_jobs.all()[:50]
    return render(request, "pushes/job_list.html", {"cluster": cluster, "jobs": jobs})
