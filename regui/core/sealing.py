"""Sealing values at rest with the key ring: one way for every model that stores secret values
(registry secrets, node SSH credentials). A sealed model has a `sealed` text field."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models

from . import crypto


def seal(value: Any) -> str:
    """A Fernet token of the value's JSON (sorted keys: the same value seals to the same JSON)."""
    return crypto.encrypt(settings.REGUI_ENCRYPTION_KEYS, json.dumps(value, sort_keys=True))


def unseal(token: str, what: str = "") -> Any:
    """The sealed value, or None for an empty token; raises crypto.KeyringError when no key opens it,
    naming `what` ("the secret x") and the way out: pages and pushes show that message as it is."""
    if not token:
        return None
    try:
        return json.loads(crypto.decrypt(settings.REGUI_ENCRYPTION_KEYS, token))
    except crypto.KeyringError:
        if not what:
            raise
        raise crypto.KeyringError(
            f"{what} cannot be opened: the key that encrypted it is not in REGUI_ENCRYPTION_KEYS (removed before "
            "`manage.py rotate_secret_keys` re-encrypted it?). Put that key back at the end of the list and run "
            "rotate_secret_keys, or enter the value again.") from None


def sealed_models() -> list[type[models.Model]]:
    """Every installed model that keeps sealed values, found by its `sealed` field, so the key-ring
    check and the rotation need not know the apps above them."""
    return [m for m in apps.get_models() if any(f.name == "sealed" for f in m._meta.get_fields())]


def sealed_label(model: type[models.Model]) -> str:
    return str(getattr(model, "sealed_label", model._meta.verbose_name))
