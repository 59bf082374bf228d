from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from regui.core import crypto
from regui.core.sealing import sealed_label, sealed_models


class Command(BaseCommand):
    help = (
        "Re-encrypt every sealed value (registry secrets, SSH credentials, drift watch webhook URLs) with the first "
        "key of REGUI_ENCRYPTION_KEYS. "
        "Prepend the new key, run this, then drop the old key."
    )

    # Its own error says more than the key-ring check would (which value, and that nothing changed).
    requires_system_checks: list = []

    def handle(self, *args: Any, **options: Any) -> None:
        keys = settings.REGUI_ENCRYPTION_KEYS
        counts = []
        # Everything sealed with the key ring; one transaction, so a key that cannot open one value
        # leaves all of them as they were.
        with transaction.atomic():
            for model in sealed_models():
                label, count = sealed_label(model), 0
                for row in model._default_manager.select_for_update().exclude(sealed=""):
                    try:
                        row.sealed = crypto.rotate(keys, row.sealed)  # type: ignore[attr-defined]
                    except crypto.KeyringError as exc:
                        raise CommandError(f"{label} {row}: {exc}; nothing was changed") from None
                    row.save(update_fields=["sealed"])
                    count += 1
                counts.append(f"{count} {label}(s)")
        self.stdout.write(f"Re-encrypted {' and '.join(counts)} with the newest key.")
