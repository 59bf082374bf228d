from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from regui.registries.models import Cluster
from regui.registries.selectors import cluster_render


class Command(BaseCommand):
    help = "Print a cluster's registries.yaml: exactly the bytes a push writes (or redacted)."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", required=True)
        parser.add_argument("--redacted", action="store_true", help="replace secret values by markers")

    def handle(self, *args, cluster: str, redacted: bool, **options):
        target = Cluster.objects.filter(name=cluster).first()
        if target is None:
            raise CommandError(f"no cluster named {cluster!r}")
        self.stdout.write(cluster_render(target, reveal=not redacted), ending="")
