"""Start-up check: the key ring must open what is stored, not just be well-formed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.db import DatabaseError

from .crypto import KeyringError
from .datadir import readable_by_others
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


@register("regui")
def check_data_dir(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Settings made the data folder private; say so when something in it is not (another owner)."""
    unfixed = list(getattr(settings, "REGUI_DATA_DIR_UNFIXED", []))
    if not unfixed and not readable_by_others(settings.DATA_DIR):
        return []
    shown = ", ".join(unfixed[:5] or [str(settings.DATA_DIR)]) + (" …" if len(unfixed) > 5 else "")
    return [Warning(f"Other users can read what is in REGUI_DATA_DIR: {shown}", id="regui.W001",
                    hint="regui could not change their mode (another user owns them): make them 0600 "
                         "(folders 0700) and owned by the user regui runs as.")]
