from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from regui.audit.models import AuditEvent


class Command(BaseCommand):
    help = "Delete history entries older than N days (default REGUI_HISTORY_DAYS, 90); 0 keeps everything."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, days: int | None, **options):
        days = settings.REGUI_HISTORY_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be 0 (keep everything) or more")
        if days == 0:
            self.stdout.write("Keeping every history entry (--days 0).")
            return
        removed = AuditEvent.objects.prune_before(timezone.now() - timedelta(days=days))
        self.stdout.write(f"Removed {removed} history entries older than {days} days.")
