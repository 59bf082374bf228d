"""The page between a push button and the queue (issue 11 item 6): GET shows the plan, POST queues it.

The node list's "Push to all nodes" / "Push to failed nodes", each node's Push and a job page's "Push again
to the failed nodes" lead here. The POST
pushes exactly the nodes the page showed, and refuses when the cluster's file changed since (look
again) or when no target node has an approved host key (saying which)."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import uuid4

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from regui.core.roles import OPERATOR, require_role
from regui.inventory.models import Node
from regui.registries.models import Cluster

from .confirm import push_preview
from .forms import PushChoicesForm
from .joining import replays, token_job
from .models import PushJob
from .selectors import failed_nodes
from .services import Requested, effective_policy, failed_nodes_of, push_job_request, unfinished_nodes


def confirm_redirect(name: str, data) -> HttpResponse:
    """To the plan of the push that `data` (a push form's fields) asks for: nothing is queued before it."""
    query = {k: data[k] for k in ("scope", "node", "job", "write_only", *PushChoicesForm.base_fields)
             if data.get(k)}
    return redirect(f"{reverse('push-confirm', args=[name])}?{urlencode(query)}")


def _scope(data) -> str:
    """What `data` (GET or POST) pushes to: "node" (a node's id), "failed", a job's unfinished ("rerun")
    or failed ("retry") nodes, or "all"."""
    if data.get("node", ""):
        return "node"
    return data["scope"] if data.get("scope") in ("rerun", "retry", "failed") else "all"


def _targets(cluster: Cluster, data) -> tuple[str, list[Node]]:
    """(scope, nodes): the scope `data` names (_scope) and its nodes."""
    scope = _scope(data)
    if scope == "node":
        node_id = data["node"]
        node = get_object_or_404(cluster.nodes.select_related("cluster"), pk=int(node_id) if node_id.isascii()
                                 and node_id.isdigit() and len(node_id) < 18 else 0)
        return scope, [node]
    if scope in ("rerun", "retry"):  # rerun: of a job whose revision is no longer current
        raw = data.get("job", "")
        job = get_object_or_404(PushJob, cluster=cluster, pk=int(raw) if raw.isascii() and raw.isdigit()
                                and len(raw) < 18 else 0)
        return scope, unfinished_nodes(job) if scope == "rerun" else failed_nodes_of(job)
    if scope == "failed":
        return scope, list(failed_nodes(cluster))
    return scope, list(cluster.nodes.select_related("cluster").order_by("name"))


@require_role(OPERATOR)
def push_confirm(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    if request.method == "POST" and not request.POST.get("confirm"):
        # From the node list's push buttons (a POST form): show the plan at its own address.
        return confirm_redirect(name, request.POST)
    data = request.POST if request.method == "POST" else request.GET
    # A confirming POST pushes the nodes it names: the scope's own nodes are not read for it (issue 13).
    scope, nodes = (_scope(data), []) if request.method == "POST" else _targets(cluster, data)
    restart = not data.get("write_only")
    choices = PushChoicesForm(data)
    if not choices.is_valid():
        messages.error(request, f"Nothing was pushed: {choices.problems()}")
        return redirect("node-list", name)
    policy = effective_policy(cluster, choices.overrides())
    if request.method == "POST":
        ids = {int(i) for i in request.POST.getlist("nodes") if i.isascii() and i.isdigit() and len(i) < 18}
        nodes = list(cluster.nodes.select_related("cluster").filter(pk__in=ids).order_by("name"))
        token = _token(request.POST.get("token", ""))
        # Sent again (a browser's retry, a second click): its job, even if the registries changed since.
        if (job := token_job(cluster, token)) and replays(job, nodes, restart=restart, policy=policy):
            return _answer(request, name, Requested(job, "again"))
        preview = push_preview(cluster, nodes, restart=restart, policy=policy)
        shown = request.POST.get("revision", "")
        if shown != str(cluster.revision):
            messages.error(request, "The cluster's registries changed since this page was shown: "
                                    "look at the plan again before pushing.")
        elif preview.refused:
            messages.error(request, f"Nothing was queued: {preview.refused}")
        elif not ids or len(nodes) != len(ids):
            messages.error(request, "Some of these nodes no longer exist: look at the plan again.")
        else:
            # The render the preview just checked is not checked again before the job is queued (issue 13).
            return _answer(request, name, push_job_request(
                cluster=cluster, user=request.user, nodes=nodes, restart=restart, policy=policy,
                checked=preview.checked, token=token))
        return render(request, "pushes/push_confirm.html", _context(cluster, scope, preview, data, choices), status=409)
    if scope == "rerun" and not nodes:
        messages.info(request, "Nothing to re-run: every node of this job finished.")
        return redirect("node-list", name)
    if scope == "retry" and not nodes:
        messages.info(request, f"Nothing to push again: job #{data.get('job')} is not a push that ended with "
                               "failed or unreachable nodes.")
        return redirect("job-detail", int(data["job"]))
    if scope == "failed" and not nodes:
        messages.info(request, "No node failed in its last push.")
        return redirect("node-list", name)
    preview = push_preview(cluster, nodes, restart=restart, policy=policy)
    return render(request, "pushes/push_confirm.html", _context(cluster, scope, preview, data, choices),
                  status=409 if preview.refused else 200)


def _answer(request: HttpRequest, name: str, asked: Requested) -> HttpResponse:
    """A confirmation's answer; the same when its page is sent again (its token names the job it made)."""
    if asked.job.status == PushJob.Status.REFUSED:
        messages.error(request, f"Nothing was pushed: {asked.job.message}")
        return redirect("node-list", name)
    return requested_redirect(request, asked)


def requested_redirect(request: HttpRequest, asked: Requested) -> HttpResponse:
    """To the job a request made or joined, saying which when it was not made for this request."""
    job = asked.job
    noun = "drift check" if job.kind == PushJob.Kind.DRIFT else "push"
    if asked.how == "joined":
        messages.info(request, f"An identical {noun} is already {job.status} (job #{job.pk}) — showing it. "
                               "Nothing was queued twice.")
    elif asked.how == "again":
        messages.info(request, f"This confirmation was sent already: it queued job #{job.pk} — showing it.")
    return redirect("job-detail", job.pk)


def _token(raw: str) -> str:
    """The confirmation page's token as sent, when it is one (uuid4().hex); else none."""
    return raw if len(raw) == 32 and raw.isascii() and raw.isalnum() else ""


def _context(cluster: Cluster, scope: str, preview, data, choices: PushChoicesForm) -> dict:
    # The push's own rolling choices go on to the confirming POST as they came.
    chosen = [(k, data[k]) for k in choices.base_fields if data.get(k)]
    return {"cluster": cluster, "scope": scope, "preview": preview, "node_param": data.get("node", ""),
            "job_param": data.get("job", ""), "token": uuid4().hex,
            "write_only": not preview.restart, "chosen": chosen}
