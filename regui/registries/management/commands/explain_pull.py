from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from regui.k3s import explain_pull
from regui.registries.cli import add_source_arguments, load_source, to_json


class Command(BaseCommand):
    help = "Show, in order, every manifest URL containerd tries for IMAGE, with credentials key and TLS."

    def add_arguments(self, parser):
        parser.add_argument("image")
        add_source_arguments(parser)
        parser.add_argument("--disable-default-registry-endpoint", action="store_true")
        parser.add_argument("--embedded-registry", action="store_true")
        parser.add_argument("--ipv6-primary", action="store_true",
                            help="the cluster's first service CIDR is IPv6: the embedded registry is at [::1]")

    def handle(self, *args, image: str, **options):
        text, program = load_source(options)
        p = explain_pull(text, image, program=program,
                         disable_default_endpoint=options["disable_default_registry_endpoint"],
                         embedded_registry=options["embedded_registry"], ipv6_primary=options["ipv6_primary"])
        if options["json"]:
            self.stdout.write(to_json(p))
        if p.error:
            raise CommandError(p.error)
        if options["json"]:
            return
        self.stdout.write(f"{p.image}: registry {p.registry}, repository {p.repository}, {p.reference}")
        self.stdout.write(f"hosts dir: {p.hosts_dir or '(none: default endpoint only)'}")
        for i, a in enumerate(p.attempts, 1):
            auth = f"credentials configs[{a.auth_key!r}]" if a.auth_key else "no credentials"
            tls = ", ".join(filter(None, [
                f"ca {','.join(a.tls.ca)}" if a.tls.ca else "", "client cert" if a.tls.client else "",
                "skip verify" if a.tls.skip_verify else ""])) or "system TLS"
            extra = f", rewritten from {a.rewritten_from}" if a.rewritten_from else ""
            self.stdout.write(f"{i}. [{a.role}] {a.urls[0]}  ({auth}; {tls}{extra})")
            for other in a.urls[1:]:
                self.stdout.write(f"   or (random rewrite order) {other}")
        for note in p.notes:
            self.stdout.write(f"note: {note}")
