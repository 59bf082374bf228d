"""Unsaved edits: what a user typed on a cluster's Registries page, kept (the page sends it a moment
after each change) until they save or discard it, so that a link, Back or a closed tab loses nothing.

Typed passwords are never kept: the page leaves them out of what it sends, and `unsaved_keep` blanks
any that come anyway. A restored box that creates a secret asks for its password again.

Kept for REGUI_UNSAVED_DAYS after their last change (one set per user and cluster): older ones are
no longer offered, and go when anyone's edits are kept next.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from .draft import (
    AUTH_NONE,
    TOKEN,
    ConfigBox,
    Draft,
    EndpointRow,
    MirrorBox,
    RewriteRow,
    drop_blank_boxes,
    new_token,
)
from .models import Cluster, UnsavedEdits
from .snapshots import draft_from_cluster


def _without_passwords(draft: Draft) -> Draft:
    return replace(draft, configs=[replace(c, password="") for c in draft.configs])


def draft_data(draft: Draft) -> dict[str, Any]:
    """The draft as JSON, tokens included (a restored page keeps its field ids), passwords never."""
    data = asdict(_without_passwords(draft))
    data.pop("revision")
    for config in data["configs"]:
        config.pop("password")
    return data


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _token(value: Any) -> str:
    return value if isinstance(value, str) and TOKEN.fullmatch(value) else new_token()


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def draft_from_data(data: Any, *, revision: int) -> Draft:
    """The stored edits as a draft (anything malformed in them is left out, never an error)."""
    data = data if isinstance(data, dict) else {}
    draft = Draft(revision=revision, message=_text(data.get("message")))
    for m in _dicts(data.get("mirrors")):
        draft.mirrors.append(MirrorBox(
            _token(m.get("token")), _text(m.get("hostname")),
            endpoints=[EndpointRow(_token(e.get("token")), _text(e.get("url"))) for e in _dicts(m.get("endpoints"))],
            rewrites=[RewriteRow(_token(r.get("token")), _text(r.get("pattern")), _text(r.get("replacement")))
                      for r in _dicts(m.get("rewrites"))],
        ))
    for c in _dicts(data.get("configs")):
        draft.configs.append(ConfigBox(
            _token(c.get("token")), _text(c.get("hostname")), auth=_text(c.get("auth")) or AUTH_NONE,
            username=_text(c.get("username")), tls_secret=_text(c.get("tls_secret")),
            ca_bundle=_text(c.get("ca_bundle")), insecure_skip_verify=c.get("insecure_skip_verify") is True,
            ca_file=_text(c.get("ca_file")), cert_file=_text(c.get("cert_file")), key_file=_text(c.get("key_file")),
            empty_auth=c.get("empty_auth") is True, empty_tls=c.get("empty_tls") is True,
        ))
    return draft


def _content(draft: Draft) -> tuple[Any, ...]:
    """What a draft holds, without what tells boxes apart on a page (tokens), untouched boxes,
    passwords (never kept) and the history note."""
    kept = drop_blank_boxes(_without_passwords(draft))
    mirrors = [(m.hostname, [e.url for e in m.endpoints], [(r.pattern, r.replacement) for r in m.rewrites])
               for m in kept.mirrors]
    # The form posts a CA bundle trimmed; one saved another way may end with a newline.
    return mirrors, [replace(c, token="", ca_bundle=c.ca_bundle.strip()) for c in kept.configs]


def same_content(a: Draft, b: Draft) -> bool:
    return _content(a) == _content(b)


@dataclass(frozen=True)
class Offer:
    """Unsaved edits the page offers to restore."""

    updated_at: datetime
    base_revision: int
    revision: int  # the cluster's now
    saved_by: str  # who saved the registries last

    @property
    def saved_since(self) -> bool:
        """Someone saved the registries after these edits began (a user's own save clears theirs)."""
        return self.base_revision < self.revision


def unsaved_keep(*, user: Any, cluster: Cluster, draft: Draft) -> bool:
    """Keep `draft` as the user's unsaved edits of the cluster; True if kept. A draft that holds what
    is saved is no edit: any kept one is dropped instead."""
    draft = _without_passwords(draft)
    current = Cluster.objects.select_related("updated_by").get(pk=cluster.pk)
    if same_content(draft, draft_from_cluster(current)):
        unsaved_discard(user=user, cluster=cluster)
        return False
    if draft.revision < current.revision and current.updated_by_id == user.pk:
        # Edits older than this user's own last save: sent before the save, arriving after it (or
        # from a tab left open on an older revision, which could not be saved anyway).
        return False
    UnsavedEdits.objects.update_or_create(
        user=user, cluster=cluster,
        defaults={"base_revision": max(draft.revision, 0), "data": draft_data(draft)},
    )
    unsaved_prune()
    return True


def _cutoff() -> datetime | None:
    """Edits last changed before this are expired; None when REGUI_UNSAVED_DAYS is 0 (all are kept)."""
    days = settings.REGUI_UNSAVED_DAYS
    return timezone.now() - timedelta(days=days) if days > 0 else None


def unsaved_prune() -> int:
    """Remove every user's expired edits; how many sets went."""
    cutoff = _cutoff()
    if cutoff is None:
        return 0
    gone, _ = UnsavedEdits.objects.filter(updated_at__lt=cutoff).delete()
    return gone


def _edits(user: Any, cluster: Cluster) -> UnsavedEdits | None:
    """The user's edits of the cluster, unless expired (those are never offered again)."""
    edits = UnsavedEdits.objects.filter(user=user, cluster=cluster).first()
    cutoff = _cutoff()
    return None if edits is None or (cutoff is not None and edits.updated_at < cutoff) else edits


def unsaved_offer(*, user: Any, cluster: Cluster) -> Offer | None:
    """The user's unsaved edits of the cluster, if they differ from what is saved now."""
    edits = _edits(user, cluster)
    if edits is None:
        return None
    current = Cluster.objects.select_related("updated_by").get(pk=cluster.pk)
    if same_content(draft_from_data(edits.data, revision=current.revision), draft_from_cluster(current)):
        edits.delete()  # someone saved exactly these edits
        return None
    return Offer(updated_at=edits.updated_at, base_revision=edits.base_revision, revision=current.revision,
                 saved_by=current.updated_by.username if current.updated_by else "")


def unsaved_draft(*, user: Any, cluster: Cluster) -> Draft | None:
    """The user's unsaved edits as the page's form, on top of the revision saved now: restoring them
    is choosing them over what is saved (the page says so when someone saved since)."""
    edits = _edits(user, cluster)
    if edits is None:
        return None
    revision = Cluster.objects.values_list("revision", flat=True).get(pk=cluster.pk)
    return draft_from_data(edits.data, revision=revision)


def unsaved_discard(*, user: Any, cluster: Cluster) -> None:
    UnsavedEdits.objects.filter(user=user, cluster=cluster).delete()
