from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from regui.audit.services import audit_object
from regui.registries.export import export_contents, export_notes, export_tar
from regui.registries.models import Cluster
from regui.registries.selectors import cluster_render


class Command(BaseCommand):
    help = ("Print a cluster's registries.yaml: exactly the bytes a push writes (or redacted). The TLS files it "
            "names are listed on standard error; --tar writes the file with regui's own TLS files.")

    def add_arguments(self, parser):
        parser.add_argument("--cluster", required=True)
        parser.add_argument("--redacted", action="store_true", help="replace secret values by markers")
        parser.add_argument("--tar", metavar="FILE",
                            help="write a tar of registries.yaml and the TLS files regui manages, at their paths on "
                                 "a node (0600; - for standard output). It holds secret values.")

    def handle(self, *args, cluster: str, redacted: bool, tar: str | None, **options):
        target = Cluster.objects.filter(name=cluster).first()
        if target is None:
            raise CommandError(f"no cluster named {cluster!r}")
        if tar and redacted:
            raise CommandError("--tar holds the real files (a redacted key is no key): leave out --redacted")
        # Standard output stays exactly the file; what it names but does not hold goes to standard error.
        for note in export_notes(export_contents(target)):
            self.stderr.write(f"note: {note}")
        if not tar:
            self.stdout.write(cluster_render(target, reveal=not redacted), ending="")
            return
        data, names = export_tar(target)
        if tar == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            try:
                fd = os.open(tar, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
            except OSError as exc:
                raise CommandError(f"cannot write {tar}: {exc}") from None
            self.stderr.write(f"wrote {tar}: {', '.join(names)}")
        # Secret values left regui: history says so, as for an admin's download.
        audit_object(target, "download", {"files": [None, names]}, revision=target.revision,
                     message="export_registries --tar")
