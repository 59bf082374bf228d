"""The labels history shows for an entry's recorded fields: the form's, not the column names (issue 11
item 13).

A field's label is its model field's verbose_name, found through the entry's object type (AUDITED);
keys an entry records that are no model field (sealed values, counts, a push's outcome) take the
model's `audit_labels`, or their name in words. A few recorded values are machine words too (VALUE_WORDS).
The CSV export keeps the names and values: it is for machines.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst

from .models import AUDITED, ObjectType

# Values recorded as scripts read them (the CSV export and the drift watch's webhook keep them), shown
# in words: the drift watch's node and cluster states (pushes/drift_watch.py records them).
# The drift watch's words for its states; others read as their name ("drifted", "unreachable").
DRIFT_WORDS = {"in_sync": "in sync", "out_of_date": "out of date",
               "restart_failed": "restart pending (the last restart failed)"}
VALUE_WORDS: dict[str, dict[str, str]] = {"drift_watch": DRIFT_WORDS, "drift_state": DRIFT_WORDS}


def state_words(state: str, words: dict[str, str] = DRIFT_WORDS) -> str:
    """A recorded state as a person reads it, each of several ("drifted, restart_failed") in words."""
    return ", ".join(words.get(part, part.replace("_", " ")) for part in state.split(", "))


def _model(object_type: str) -> type[models.Model] | None:
    if object_type == ObjectType.USER:
        return get_user_model()  # Django's user model cannot take the Audited mixin
    return AUDITED.get(object_type)


def field_label(object_type: str, name: str) -> str:
    model = _model(object_type)
    if model is not None:
        extra = getattr(model, "audit_labels", {})
        if name in extra:
            return str(extra[name])
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        # Reverse relations and generic keys have no verbose_name: their name in words does.
        if isinstance(field, models.Field):
            return capfirst(str(field.verbose_name))
    return capfirst(name.replace("_", " "))


def values_in_words(changes: Any) -> Any:
    """An entry's changes with the values VALUE_WORDS knows in words, for a page."""
    if not isinstance(changes, dict):
        return changes
    return {
        # A cluster's drift state may name several ("drifted, restart_failed"): each in words.
        name: [state_words(v, VALUE_WORDS[name]) if isinstance(v, str) else v for v in pair]
        if name in VALUE_WORDS and isinstance(pair, list)
        else pair
        for name, pair in changes.items()
    }
