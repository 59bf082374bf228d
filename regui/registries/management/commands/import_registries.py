from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from regui.audit.services import audit_object
from regui.registries.cli import source_read
from regui.registries.import_preview import import_preview, preview_text
from regui.registries.importing import ImportRefused, registries_import, registries_import_plan
from regui.registries.models import Cluster


class Command(BaseCommand):
    help = "Import a registries.yaml into a cluster (created if missing). Saves nothing on any error."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to registries.yaml, or - for standard input")
        parser.add_argument("--cluster", required=True)
        parser.add_argument("--distro", choices=[c for c, _ in Cluster.Distro.choices])
        parser.add_argument("--replace", action="store_true", help="drop entries the file does not list")
        parser.add_argument("--dry-run", action="store_true",
                            help="print what the import would change (redacted diff) and save nothing")

    def handle(self, *args, file: str, cluster: str, distro: str | None, replace: bool, dry_run: bool,
               **options):
        text = source_read(file)
        # One transaction: a refused import leaves no new cluster and no changed distro behind.
        with transaction.atomic():
            target = self._target(cluster, distro)
            try:
                if dry_run:
                    self.stdout.write(preview_text(import_preview(
                        registries_import_plan(cluster=target, text=text, replace=replace))), ending="")
                    transaction.set_rollback(True)  # a cluster or distro made for the dry run goes too
                    return
                result = registries_import(cluster=target, text=text, replace=replace)
            except ImportRefused as exc:
                details = "".join(f"\n  {line}" for line in exc.details)
                raise CommandError(f"{exc}{details}") from None
        self.stdout.write(result.summary())
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")

    @staticmethod
    def _target(name: str, distro: str | None) -> Cluster:
        target = Cluster.objects.filter(name=name).first()
        if target is None:
            target = Cluster(name=name, distro=distro or Cluster.Distro.K3S)
            try:
                target.full_clean()
            except ValidationError as exc:  # a bad cluster name
                raise CommandError(f"cannot create cluster {name!r}: {'; '.join(exc.messages)}") from None
            target.save()
            audit_object(target, "create", {"name": [None, target.name], "distro": [None, target.distro]},
                         message="created by import_registries")
        elif distro and distro != target.distro:
            audit_object(target, "update", {"distro": [target.distro, distro]},
                         message="changed by import_registries --distro")
            target.distro = distro
            target.save(update_fields=["distro"])
        return target
