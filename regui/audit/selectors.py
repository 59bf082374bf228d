"""Reads for the History pages: one set of filters builds every list (page, tabs, export).

Pages are keyset pages over the `audit_newest_first` index (time, id): the cost of a page does not
grow with the table, and no COUNT(*) runs over it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from regui.core.fingerprints import file_fingerprint

from .models import AuditEvent, ObjectType

PAGE_SIZE = 50
# Usernames cannot hold parentheses, so this value can never name a real account.
SYSTEM = "(system)"
# What a failed login shows instead of the name typed, but to admins: people type passwords there.
HIDDEN_NAME = "(name hidden)"


def type_label(object_type: str) -> str:
    return ObjectType(object_type).label if object_type in ObjectType.values else object_type
FORM_FIELDS = ("user", "cluster", "object_type", "action", "date_from", "date_to", "request_id")
SCOPE_FIELDS = ("cluster_id", "node_id", "secret_id")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class HistoryFilters:
    user: str = ""
    cluster: str = ""
    object_type: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    request_id: str = ""
    # The History tabs' scope: set by the page's URL, carried as hidden fields to the export.
    cluster_id: int | None = None
    node_id: int | None = None
    secret_id: int | None = None
    # The id of the cluster named `cluster` today (None when no cluster has that name now).
    cluster_now: int | None = field(default=None, compare=False)
    # Scope fields fixed by the page's URL: left out of its links, which the URL already scopes.
    fixed: tuple[str, ...] = field(default=(), compare=False)
    errors: tuple[str, ...] = field(default=(), compare=False)
    # Whether the reader may see the names typed into failed logins (admins only).
    typed_names: bool = field(default=False, compare=False)

    def params(self, *, with_fixed: bool = False) -> dict[str, str]:
        """The non-empty filters as query parameters, in a stable order (shareable URLs)."""
        out = {}
        for name in FORM_FIELDS + SCOPE_FIELDS:
            value = getattr(self, name)
            if value not in (None, "") and (with_fixed or name not in self.fixed):
                out[name] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    def query(self, *, with_fixed: bool = False, **extra: str) -> str:
        return urlencode({**self.params(with_fixed=with_fixed), **{k: v for k, v in extra.items() if v}})

    @property
    def active(self) -> bool:
        return any(getattr(self, name) not in (None, "") for name in FORM_FIELDS)

    @property
    def hidden_scope(self) -> dict[str, str]:
        """Scope parameters given in the URL of the main page: kept as hidden fields of its form."""
        return {k: v for k, v in self.params().items() if k in SCOPE_FIELDS}


# The days a filter can name: the first day a bound reaches must still have a next day (9999-12-31
# has none), and nothing older than the epoch was ever recorded.
_FIRST_DAY, _LAST_DAY = date(1970, 1, 1), date(9999, 12, 30)


def _date(value: str, label: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label} must be a date like 2025-01-31; ignored.")
        return None
    if not _FIRST_DAY <= day <= _LAST_DAY:
        errors.append(f"{label} must be between {_FIRST_DAY} and {_LAST_DAY}; ignored.")
        return None
    return day


def _ascii_digits(value: str, max_digits: int) -> bool:
    # str.isdigit() also takes "²" and other digits int() refuses; only ASCII digits are a number here.
    return 0 < len(value) <= max_digits and value.isascii() and value.isdigit()


def param_int(value: str | None, max_digits: int = 18) -> int | None:
    """A query parameter as a number its column can hold, or None (bad input is ignored, not a 500)."""
    return int(value) if value and _ascii_digits(value, max_digits) else None


def bad_param_int(params: Mapping[str, str], name: str, max_digits: int = 18) -> str | None:
    """What is wrong with a numeric parameter that is given but is not a number (None when it is
    absent or fine): the views answer 400 with this."""
    value = params.get(name)
    if value in (None, "") or param_int(value, max_digits) is not None:
        return None
    return f"{name} must be a whole number of at most {max_digits} digits; ignored."


def history_filters(params: Mapping[str, str], *, cluster_ids: Callable[[str], int | None] = lambda name: None,
                    typed_names: bool = False, **scope: int | None) -> HistoryFilters:
    """Filters from GET parameters; a bad value is dropped with a message instead of failing the page.
    `cluster_ids` tells which cluster has a name today (the history knows names and ids only)."""
    errors: list[str] = []

    def text(name: str, limit: int) -> str:
        return (params.get(name) or "").strip()[:limit]

    object_type, action = text("object_type", 32), text("action", 16)
    if object_type and object_type not in ObjectType.values:
        errors.append(f"Unknown object type {object_type!r}; ignored.")
        object_type = ""
    if action and action not in AuditEvent.Action.values:
        errors.append(f"Unknown action {action!r}; ignored.")
        action = ""
    date_from = _date(text("date_from", 10), "From", errors)
    date_to = _date(text("date_to", 10), "To", errors)
    if date_from and date_to and date_to < date_from:
        errors.append("The range ends before it starts: no entry can match.")
    # A tab's scope comes from its URL alone: parameters can neither widen nor move it.
    fixed: dict[str, int | None] = {k: v for k, v in scope.items() if v is not None}
    ids = fixed or {name: param_int(params.get(name)) for name in SCOPE_FIELDS}
    if not fixed:
        errors += [e for name in SCOPE_FIELDS if (e := bad_param_int(params, name))]
    cluster = text("cluster", 63)
    return HistoryFilters(user=text("user", 150), cluster=cluster, cluster_now=cluster_ids(cluster) if cluster else None,
                          object_type=object_type,
                          action=action, date_from=date_from, date_to=date_to, request_id=text("request_id", 36),
                          fixed=tuple(fixed), errors=tuple(errors), typed_names=typed_names, **ids)


def _day_start(day: date) -> datetime:
    # Days are those of the configured time zone, as on the page.
    return timezone.make_aware(datetime.combine(day, time.min))


def history_queryset(f: HistoryFilters) -> QuerySet[AuditEvent]:
    """Entries matching the filters, newest first. Every filter is on an indexed column but `cluster`
    of a deleted cluster, which falls back to the stored name."""
    qs = AuditEvent.objects.all()
    if f.user:
        qs = qs.filter(actor_name="" if f.user == SYSTEM else f.user)
        if not f.typed_names:
            # Or a viewer could find out what was typed by trying names until one matches.
            qs = qs.exclude(action=AuditEvent.Action.LOGIN_FAILED)
    if f.cluster:
        # By id while the cluster exists: its entries from before a rename still belong to it.
        pk = f.cluster_now
        qs = qs.filter(cluster_id_ref=pk) if pk is not None else qs.filter(cluster_name=f.cluster)
    for attr, column in (("object_type", "object_type"), ("action", "action"), ("request_id", "request_id"),
                         ("cluster_id", "cluster_id_ref"), ("node_id", "node_id_ref"),
                         ("secret_id", "secret_id_ref")):
        value = getattr(f, attr)
        if value not in (None, ""):
            qs = qs.filter(**{column: value})
    if f.date_from:
        qs = qs.filter(time__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(time__lt=_day_start(f.date_to + timedelta(days=1)))
    return qs.order_by("-time", "-id")


# --- keyset pages ------------------------------------------------------------------------------


def cursor_of(entry: AuditEvent) -> str:
    # Whole microseconds since the epoch: exact, unlike a float timestamp.
    return f"{(entry.time - _EPOCH) // timedelta(microseconds=1)}-{entry.pk}"


# A cursor's time must be a datetime Python can hold (year 9999 at most).
_LAST_MICROS = (datetime(9999, 12, 31, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


def _parse_cursor(value: str) -> tuple[datetime, int] | None:
    micros, _, pk = (value or "").partition("-")
    if not (_ascii_digits(micros, 18) and _ascii_digits(pk, 18)) or int(micros) > _LAST_MICROS:
        return None
    return _EPOCH + timedelta(microseconds=int(micros)), int(pk)


def bad_cursor(value: str) -> str | None:
    """Why a page link's cursor cannot be used (None when it is absent or fine)."""
    if not value or _parse_cursor(value) is not None:
        return None
    return "That page link is not valid (it is not one this page made); showing the newest entries."


@dataclass
class HistoryPage:
    entries: list[AuditEvent]
    filters: HistoryFilters
    older: str | None = None  # cursor for the next page down (older entries)
    newer: str | None = None  # cursor for the page above, None on the newest page

    @property
    def is_newest(self) -> bool:
        return self.newer is None

    def older_query(self) -> str:
        return self.filters.query(before=self.older or "")

    def newer_query(self) -> str:
        return self.filters.query(after=self.newer or "")

    def newest_query(self) -> str:
        return self.filters.query()


def history_page(f: HistoryFilters, *, before: str = "", after: str = "", size: int = PAGE_SIZE) -> HistoryPage:
    """One page: the newest entries, or those just older than `before`, or just newer than `after`.
    One query; one more row than shown tells whether another page follows."""
    qs = history_queryset(f)
    if (key := _parse_cursor(after)) is not None:
        t, pk = key
        # Walk up from the cursor (ascending), then show the page newest first like every other.
        rows = list(qs.filter(time__gte=t).exclude(time=t, id__lte=pk).order_by("time", "id")[: size + 1])
        if len(rows) <= size:
            # Back at the top: show the newest page itself, so it always holds the same entries.
            return history_page(f, size=size)
        entries = rows[:size][::-1]
        page = HistoryPage(entries, f, older=cursor_of(entries[-1]), newer=cursor_of(entries[0]))
    else:
        key = _parse_cursor(before)
        if key is not None:
            t, pk = key
            # `time <= t` is the index range; the exclude drops the cursor's own time-twins at or above it.
            qs = qs.filter(time__lte=t).exclude(time=t, id__gte=pk)
        rows = list(qs[: size + 1])
        entries = rows[:size]
        page = HistoryPage(entries, f, older=cursor_of(entries[-1]) if len(rows) > size else None,
                           newer=cursor_of(entries[0]) if key is not None and entries else None)
    for e in page.entries:
        e.type_label = type_label(e.object_type)
    if not f.typed_names:
        page.entries = list(hide_typed_names(page.entries))
    return page


def hide_typed_names(entries: Iterable[AuditEvent]) -> Iterable[AuditEvent]:
    """Failed logins without the name typed, for readers who are not admins (shown, never saved)."""
    for e in entries:
        if e.action == AuditEvent.Action.LOGIN_FAILED:
            e.actor_name = e.object_repr = HIDDEN_NAME
            e.object_id = ""
            e.changes = {}
        yield e


def filter_choices(cluster_names: list[str]) -> dict[str, object]:
    """What the filter form offers: small queries, independent of the history's size (names of
    deleted users and clusters can still be typed or reached from an entry's links)."""
    users = list(get_user_model().objects.order_by("username").values_list("username", flat=True))
    return {
        "user_suggestions": [(SYSTEM, "system (no person)"), *((u, "") for u in users)],
        "clusters": cluster_names,
        "cluster_options": [(c, c) for c in cluster_names],
        "object_types": ObjectType.choices,
        "actions": AuditEvent.Action.choices,
        "system": SYSTEM,
    }


def history_rows_for_export(f: HistoryFilters) -> Iterable[AuditEvent]:
    # Streamed in chunks: an export of the whole history never sits in memory at once.
    rows = history_queryset(f).iterator(chunk_size=2000)
    return rows if f.typed_names else hide_typed_names(rows)


def shown_changes(changes: Any) -> Any:
    """An entry's changes as pages and exports show them: entries written before keyed fingerprints
    carry a file's sha256, which is derived from secret values; show its fingerprint instead."""
    if not isinstance(changes, dict) or "sha256" not in changes:
        return changes
    pair = changes["sha256"]
    shown = [file_fingerprint(v) or None for v in pair] if isinstance(pair, list) else file_fingerprint(str(pair))
    return {("fingerprint" if k == "sha256" else k): (shown if k == "sha256" else v) for k, v in changes.items()}
