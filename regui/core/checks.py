"""Start-up check: the key ring must open what is stored, not just be well-formed."""

from __future__ import annotations

from django.core.checks import Error, register
from django.db import DatabaseError


@register("regui")
def check_encryption_keys(app_configs, **kwargs):
    from regui.core.crypto import KeyringError
    from regui.inventory.models import Node
    from regui.registries.models import Secret

    try:
        # The newest of each kind of sealed value: after a rotation, all were sealed with one key.
        samples = [
            (Secret.objects.exclude(sealed="").order_by("-updated_at").first(), "unseal"),
            (Node.objects.exclude(sealed="").order_by("-pk").first(), "unseal_credential"),
        ]
    except DatabaseError:
        return []  # not migrated yet: nothing stored to check against
    for row, opener in samples:
        if row is None:
            continue
        try:
            getattr(row, opener)()
        except KeyringError as exc:
            return [Error(f"REGUI_ENCRYPTION_KEYS is wrong: {exc}", id="regui.E001",
                          hint="Put the key that was in use first in the list, or restore it.")]
    return []
