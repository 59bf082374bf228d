from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from regui.k3s import generate_hosts
from regui.registries.cli import add_source_arguments, load_source, to_json


class Command(BaseCommand):
    help = "Print the containerd hosts.toml files K3s/RKE2 would generate from a registries.yaml."

    def add_arguments(self, parser):
        add_source_arguments(parser)
        parser.add_argument("--disable-default-registry-endpoint", action="store_true")
        parser.add_argument("--embedded-registry", action="store_true")
        parser.add_argument("--ipv6-primary", action="store_true",
                            help="the cluster's first service CIDR is IPv6: the embedded registry is at [::1]")

    def handle(self, *args, **options):
        text, program = load_source(options)
        r = generate_hosts(text, program=program,
                           disable_default_endpoint=options["disable_default_registry_endpoint"],
                           embedded_registry=options["embedded_registry"], ipv6_primary=options["ipv6_primary"])
        if options["json"]:
            self.stdout.write(to_json({"program": program, "parse_error": r.parse_error, "warnings": r.warnings,
                                       "hosts_dirs": r.hosts_dirs, "cri_auth_keys": sorted(r.cri_auth)}))
        else:
            for name, toml in r.hosts_dirs.items():
                self.stdout.write(f"==> certs.d/{name}/hosts.toml <==\n{toml}")
            for warning in r.warnings:
                self.stderr.write(f"warning: {warning}")
        if r.parse_error:
            raise CommandError(f"{program} would refuse this file: {r.parse_error}")
