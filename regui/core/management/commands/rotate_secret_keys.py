from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from regui.core import crypto
from regui.inventory.models import Node
from regui.registries.models import Secret


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret and node credential with the first key of REGUI_ENCRYPTION_KEYS. "
        "Prepend the new key, run this, then drop the old key."
    )

    # Its own error says more than the key-ring check would (which value, and that nothing changed).
    requires_system_checks: list = []

    def handle(self, *args, **options):
        keys = settings.REGUI_ENCRYPTION_KEYS
        counts = {}
        # Everything sealed with the key ring; one transaction, so a key that cannot open one value
        # leaves all of them as they were.
        sealed = [("secret", Secret, "name"), ("node credential", Node, "name")]
        with transaction.atomic():
            for label, model, name_field in sealed:
                counts[label] = 0
                for row in model.objects.select_for_update().exclude(sealed=""):
                    try:
                        row.sealed = crypto.rotate(keys, row.sealed)
                    except crypto.KeyringError as exc:
                        raise CommandError(f"{label} {getattr(row, name_field)}: {exc}; nothing was changed") from None
                    row.save(update_fields=["sealed"])
                    counts[label] += 1
        self.stdout.write(f"Re-encrypted {counts['secret']} secret(s) and {counts['node credential']} node "
                          "credential(s) with the newest key.")
