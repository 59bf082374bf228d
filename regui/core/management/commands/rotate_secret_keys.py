from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from regui.core import crypto
from regui.registries.models import Secret


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of REGUI_ENCRYPTION_KEYS. "
        "Prepend the new key, run this, then drop the old key."
    )

    # Its own error says more than the key-ring check would (which secret, and that nothing changed).
    requires_system_checks: list = []

    def handle(self, *args, **options):
        keys = settings.REGUI_ENCRYPTION_KEYS
        done = 0
        with transaction.atomic():
            for secret in Secret.objects.select_for_update().exclude(sealed=""):
                try:
                    secret.sealed = crypto.rotate(keys, secret.sealed)
                except crypto.KeyringError as exc:
                    raise CommandError(f"secret {secret.name}: {exc}; nothing was changed") from None
                secret.save(update_fields=["sealed"])
                done += 1
        self.stdout.write(f"Re-encrypted {done} secret(s) with the newest key.")
