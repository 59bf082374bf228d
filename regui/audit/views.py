"""History and revision pages.

Everything here reads, except restoring a revision (which makes a new revision through the service).
No view changes or deletes a history entry: the entry URLs answer GET (and HEAD) only.
One URL serves a full page or, for htmx, just the part that changes (see `_history`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import push_url

from regui.core.htmx import wants_fragment
from regui.core.roles import ADMIN, OPERATOR, has_role, require_role
from regui.inventory.models import Node
from regui.inventory.selectors import node_content, revision_rows
from regui.registries.models import Cluster, Secret
from regui.registries.restore import RestoreRefused, registries_restore, restore_differences

from . import diff
from .context import posted_note
from .labels import field_label, values_in_words
from .models import AUDITED, AuditEvent, ObjectType, Revision
from .selectors import (
    HIDDEN_NAME,
    SYSTEM,
    HistoryFilters,
    bad_cursor,
    bad_param_int,
    filter_choices,
    hide_typed_names,
    history_filters,
    history_page,
    history_rows_for_export,
    param_int,
    shown_changes,
    type_label,
)

RESULTS = "audit/partials/_history_results.html"
REVISIONS_PER_PAGE = 50


def _cluster_id(name: str) -> int | None:
    return Cluster.objects.filter(name=name).values_list("pk", flat=True).first()


def _history(request: HttpRequest, template: str, full: Callable[[], dict[str, Any]] | None = None,
             **scope: int | None) -> HttpResponse:
    """The entry list of a page (main page or a tab): full page, or the results part for htmx."""
    f = history_filters(request.GET, cluster_ids=_cluster_id, typed_names=_sees_typed_names(request), **scope)
    cursors = {k: request.GET.get(k, "")[:40] for k in ("before", "after")}
    if cursor_errors := tuple(e for k in cursors if (e := bad_cursor(request.GET.get(k, "")))):
        f = dataclasses.replace(f, errors=f.errors + cursor_errors[:1])
    page = history_page(f, before=cursors["before"], after=cursors["after"])
    _add_links(page.entries, request.path, f)
    ctx: dict[str, Any] = {"page": page, "filters": f, "export_query": f.query(with_fixed=True), "system": SYSTEM}
    if wants_fragment(request):
        # 200 even with errors: a GET asked as the filters are typed, whose results say what was ignored; no refusal.
        response = render(request, RESULTS, ctx)
        # Only the non-empty filters go to the address bar, so the URL is short and shareable.
        where = page.newest_query() if page.is_newest else f.query(before=cursors["before"], after=cursors["after"])
        push_url(response, f"{request.path}?{where}" if where else request.path)
        return response
    ctx.update(filter_choices(list(Cluster.objects.order_by("name").values_list("name", flat=True))))
    if full is not None:
        ctx.update(full())
    # A parameter that was wrong is shown on the page, which says what was ignored.
    return render(request, template, ctx, status=400 if f.errors else 200)


def _sees_typed_names(request: HttpRequest) -> bool:
    return has_role(request.user, ADMIN)


def _add_links(entries: list[AuditEvent], path: str, f: HistoryFilters) -> None:
    """Each row's links, built here: a `{% url %}` per link and row was most of a page's render time.
    Who links within the page (adding to its filters); cluster and request link to all history."""
    history_url = reverse("history")
    query = f.query()
    here = f"{path}?{query}&" if query else f"{path}?"
    for e in entries:
        e.entry_url = reverse("history-entry", args=[e.pk])
        e.object_url = f"{e.entry_url}object/"
        e.user_url = "" if e.actor_name == HIDDEN_NAME else here + urlencode({"user": e.actor_name or SYSTEM})
        e.cluster_url = f"{history_url}?{urlencode({'cluster': e.cluster_name})}" if e.cluster_name else ""
        e.request_url = f"{history_url}?{urlencode({'request_id': e.request_id})}" if e.request_id else ""


@require_safe
def history(request: HttpRequest) -> HttpResponse:
    return _history(request, "audit/history.html")


@require_safe
def history_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """One entry's changes: the expanding row part for htmx, a page of its own otherwise."""
    entry = get_object_or_404(AuditEvent, pk=pk)
    if not _sees_typed_names(request):
        list(hide_typed_names([entry]))
    entry.type_label = type_label(entry.object_type)
    rows = diff.change_rows(values_in_words(shown_changes(entry.changes)),
                            label=lambda name: field_label(entry.object_type, name))
    ctx = {"entry": entry, "rows": rows, "compare_url": _compare_url(entry), "system": SYSTEM}
    template = "audit/partials/_entry_detail.html" if wants_fragment(request) else "audit/entry.html"
    return render(request, template, ctx)


def _compare_url(entry: AuditEvent) -> str:
    """The registries diff an entry belongs to (the revision it made against the one before)."""
    if not entry.revision or entry.revision < 2 or entry.cluster_id_ref is None:
        return ""
    name = Cluster.objects.filter(pk=entry.cluster_id_ref).values_list("name", flat=True).first()
    if name is None:
        return ""
    return f"{reverse('cluster-revision-compare', args=[name])}?a={entry.revision - 1}&b={entry.revision}"


@require_safe
def history_object(request: HttpRequest, pk: int) -> HttpResponse:
    """Go to what an entry is about, resolved now: list pages need no query per row, and renamed or
    deleted objects are handled here."""
    e = get_object_or_404(AuditEvent, pk=pk)
    if not _sees_typed_names(request):
        list(hide_typed_names([e]))
    target = _object_url(request, e)
    if target:
        return redirect(target)
    messages.info(request, f"The {e.object_type.replace('_', ' ')} {e.object_repr or e.object_id} no longer exists; "
                           "these are its entries.")
    scope: dict[str, Any] = ({"node_id": e.node_id_ref} if e.node_id_ref else {"secret_id": e.secret_id_ref} if e.secret_id_ref
             else {"cluster_id": e.cluster_id_ref} if e.cluster_id_ref else {"request_id": e.request_id})
    return redirect(f"{reverse('history')}?{HistoryFilters(**scope).query()}")


def _object_url(request: HttpRequest, e: AuditEvent) -> str:
    if e.object_type == ObjectType.USER:
        user = get_user_model().objects.filter(pk=e.object_id).first() if e.object_id.isdigit() else None
        if user and has_role(request.user, ADMIN):
            return reverse("user-edit", args=[user.pk])
        return f"{reverse('history')}?{HistoryFilters(user=user.username).query()}" if user else ""
    model = AUDITED.get(e.object_type)
    if model is not None and model.audit_key_field == "pk":
        obj = model._default_manager.filter(pk=e.object_id).first() if param_int(e.object_id) else None
        return obj.get_absolute_url() if obj is not None else ""
    # Mirrors and configs are replaced by every save: their page is their cluster's.
    if e.cluster_id_ref:
        name = Cluster.objects.filter(pk=e.cluster_id_ref).values_list("name", flat=True).first()
        return reverse("cluster-registries", args=[name]) if name else ""
    return ""


CSV_HEADER = ("time", "actor", "action", "object_type", "object_id", "object", "cluster", "cluster_id", "node_id",
              "secret_id", "revision", "request_id", "source_ip", "message", "changes")
# A cell starting with one of these runs as a formula in spreadsheet programs (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _csv_lines(f: HistoryFilters) -> Iterator[str]:
    # `changes` keeps the recorded field names (auth_secret, empty_auth): the export is for scripts, which
    # want names that stay put; the pages show the form's labels (labels.py).
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for e in history_rows_for_export(f):
        yield writer.writerow([_cell(v) for v in (
            e.time.astimezone(UTC).isoformat(), e.actor_name, e.action, e.object_type, e.object_id,
            e.object_repr, e.cluster_name, e.cluster_id_ref, e.node_id_ref, e.secret_id_ref, e.revision,
            e.request_id, e.source_ip, e.message, json.dumps(shown_changes(e.changes), ensure_ascii=False, sort_keys=True))])


@require_safe
def history_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV, streamed: the whole history never sits in memory."""
    f = history_filters(request.GET, cluster_ids=_cluster_id, typed_names=_sees_typed_names(request))
    if f.errors:
        # A file cannot show what was ignored: better none than a different list than asked for.
        raise BadRequest(" ".join(e.replace("; ignored.", ".") for e in f.errors))
    response = StreamingHttpResponse(_csv_lines(f), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="history-{timezone.now():%Y%m%d-%H%M%S}.csv"'
    return response


# --- the History tabs ----------------------------------------------------------------------------


@require_safe
def cluster_history(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)

    def full() -> dict[str, Any]:
        return {"cluster": cluster, "revision_rows": revision_rows(cluster, cluster.revisions.order_by("-number")[:10])}

    return _history(request, "audit/cluster_history.html", full, cluster_id=cluster.pk)


def _node(name: str, pk: int) -> Node:
    return get_object_or_404(Node.objects.select_related("cluster"), pk=pk, cluster__name=name)


@require_safe
def node_history(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    node = _node(name, pk)

    def full() -> dict[str, Any]:
        return {"cluster": node.cluster, "node": node, "content": node_content(node)}

    return _history(request, "audit/node_history.html", full, node_id=node.pk)


@require_safe
def node_revision(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    """Which revision the node has, as a fragment the node's page loads."""
    node = _node(name, pk)
    return render(request, "audit/partials/_node_revision.html",
                  {"cluster": node.cluster, "node": node, "content": node_content(node)})


@require_safe
def secret_history(request: HttpRequest, name: str) -> HttpResponse:
    secret = Secret.objects.filter(name=name).first()
    # A deleted secret's entries stay reachable by its name.
    secret_id = secret.pk if secret else (
        AuditEvent.objects.filter(object_type=ObjectType.SECRET, object_repr=name, secret_id_ref__isnull=False)
        .values_list("secret_id_ref", flat=True).first())
    if secret_id is None:
        raise Http404("No secret by that name, now or in the history.")
    return _history(request, "audit/secret_history.html", lambda: {"secret": secret, "secret_name": name},
                    secret_id=secret_id)


# --- revisions -----------------------------------------------------------------------------------


@require_safe
def revision_list(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    page = Paginator(cluster.revisions.order_by("-number"), REVISIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "audit/revision_list.html", {
        "cluster": cluster, "page_obj": page, "revision_rows": revision_rows(cluster, page.object_list)})


@require_safe
def revision_detail(request: HttpRequest, name: str, number: int) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    revision = get_object_or_404(Revision, cluster=cluster, number=number)
    (row,) = revision_rows(cluster, [revision])
    return render(request, "audit/revision_detail.html", {"cluster": cluster, "revision": revision, "row": row})


@require_safe
def revision_compare(request: HttpRequest, name: str) -> HttpResponse:
    """Two revisions' redacted files, unified or side by side (`mode`), 3 lines of context or all."""
    cluster = get_object_or_404(Cluster, name=name)
    if problems := [e for k in ("a", "b") if (e := bad_param_int(request.GET, k, max_digits=9))]:
        raise BadRequest(" ".join(p.replace("; ignored.", ": a revision number.") for p in problems))
    b = param_int(request.GET.get("b"), max_digits=9) or cluster.revision
    a = param_int(request.GET.get("a"), max_digits=9) or max(b - 1, 1)
    found = {r.number: r for r in cluster.revisions.filter(number__in={a, b})}
    if a not in found or b not in found:
        missing = ", ".join(f"r{n}" for n in sorted({a, b} - set(found)))
        raise Http404(f"{cluster.name} has no revision {missing}.")
    mode = "side" if request.GET.get("mode") == "side" else "unified"
    full = request.GET.get("context") == "all"
    old, new = found[a].yaml_redacted, found[b].yaml_redacted
    context = None if full else diff.CONTEXT
    return render(request, "audit/revision_compare.html", {
        "cluster": cluster, "a": found[a], "b": found[b], "mode": mode, "full": full,
        "same": not diff.has_changes(old, new),
        "lines": diff.unified(old, new, context=context) if mode == "unified" else [],
        "rows": diff.side_by_side(old, new, context=context) if mode == "side" else [],
    })


@require_POST
@require_role(OPERATOR)
def revision_restore(request: HttpRequest, name: str, number: int) -> HttpResponse:
    """Make a new revision with this one's content; pushing it is a separate, deliberate step."""
    cluster = get_object_or_404(Cluster, name=name)
    revision = get_object_or_404(Revision, cluster=cluster, number=number)
    message = posted_note(request)
    try:
        restored = registries_restore(cluster=cluster, revision=revision, user=request.user, message=message)
    except RestoreRefused as exc:
        messages.error(request, str(exc))
        return redirect("cluster-revision", cluster.name, number)
    messages.success(request, f"Revision {number} restored as revision {restored.number}: push it to apply.")
    if note := restore_differences(revision, restored):
        messages.warning(request, note)
    return redirect("node-list", cluster.name)
