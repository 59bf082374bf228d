"""Start-up check: the key ring must open what is stored, not just be well-formed."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.db import DatabaseError

from .crypto import KeyringError
from .sealing import sealed_models, unseal


@register("regui")
def check_encryption_keys(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    try:
        # The newest sealed value of each kind: after a rotation, all were sealed with one key.
        tokens = [m._default_manager.exclude(sealed="").order_by("-pk").values_list("sealed", flat=True).first()
                  for m in sealed_models()]
    except DatabaseError:
        return []  # not migrated yet: nothing stored to check against
    for token in tokens:
        try:
            unseal(token or "")
        except KeyringError as exc:
            return [Error(f"REGUI_ENCRYPTION_KEYS is wrong: {exc}", id="regui.E001",
                          hint="Put the key that was in use first in the list, or restore it.")]
    return []
