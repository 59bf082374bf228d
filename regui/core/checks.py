"""Start-up check: the key ring must open what is stored, not just be well-formed."""

from __future__ import annotations

from django.core.checks import Error, register
from django.db import DatabaseError


@register("regui")
def check_encryption_keys(app_configs, **kwargs):
    from regui.core.crypto import KeyringError
    from regui.registries.models import Secret

    try:
        sample = Secret.objects.exclude(sealed="").order_by("-updated_at").first()
    except DatabaseError:
        return []  # not migrated yet: nothing stored to check against
    if sample is None:
        return []
    try:
        sample.unseal()
    except KeyringError as exc:
        return [Error(f"REGUI_ENCRYPTION_KEYS is wrong: {exc}", id="regui.E001",
                      hint="Put the key that was in use first in the list, or restore it.")]
    return []
