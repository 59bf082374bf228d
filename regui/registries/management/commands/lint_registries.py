from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from regui.k3s import lint
from regui.registries.cli import add_source_arguments, load_source, source_flags, to_json


class Command(BaseCommand):
    help = "Lint a registries.yaml for what K3s/RKE2 will really do with it. Exit 1 when there are errors."

    def add_arguments(self, parser):
        add_source_arguments(parser)

    def handle(self, *args, **options):
        text, program = load_source(options)
        # --cluster: the hosts.toml files its nodes write; a FILE: with and without the embedded registry.
        findings = lint(text, program=program, flags=source_flags(options))
        if options["json"]:
            self.stdout.write(to_json(findings))
        else:
            for f in findings:
                where = ".".join(str(p) for p in f.path) or "(file)"
                line = f" line {f.line}" if f.line else ""
                self.stdout.write(f"{f.severity.upper():7} {f.code} {where}{line}\n        {f.message}\n"
                                  f"        fix: {f.hint}")
            errors = sum(f.severity == "error" for f in findings)
            self.stdout.write(f"{errors} error(s), {sum(f.severity == 'warning' for f in findings)} warning(s)")
        if any(f.severity == "error" for f in findings):
            sys.exit(1)
