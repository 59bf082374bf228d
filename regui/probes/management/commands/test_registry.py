from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from regui.probes.models import RegistryTest
from regui.probes.plan import registry_names
from regui.probes.selectors import saved_configuration
from regui.probes.services import registry_test_create, registry_test_problem, registry_test_run
from regui.registries.models import Cluster


class Command(BaseCommand):
    help = ("Test a registry of a cluster's saved configuration from here, as the worker does from the page: "
            "each endpoint a pull tries, in order, with the TLS and credentials K3s gives its host. Without "
            "HOST, every registry of the configuration. Never prints a secret.")

    def add_arguments(self, parser):
        parser.add_argument("host", nargs="?", help="a registry (a mirror's name or a registry config's host)")
        parser.add_argument("--cluster", required=True)
        parser.add_argument("--image", default="", help="a repository in the registry to resolve, e.g. library/nginx:1.27")
        parser.add_argument("--endpoint", default="", help="only this endpoint (its API root, as the page lists it)")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, host: str | None, cluster: str, image: str, endpoint: str, **options):
        target = Cluster.objects.filter(name=cluster).first()
        if target is None:
            raise CommandError(f"no cluster named {cluster!r}")
        hosts = [host] if host else registry_names(saved_configuration(target).result)
        if not hosts:
            raise CommandError(f"cluster {cluster} has no saved registry to test")
        tests = []
        for name in hosts:
            problem = registry_test_problem(cluster=target, registry=name, image=image, endpoint=endpoint,
                                            any_registry=True)
            if problem:
                raise CommandError(f"{name}: {problem}")
            test = registry_test_create(cluster=target, registry=name, image=image, endpoint=endpoint, enqueue=False,
                                        by="manage.py test_registry")
            tests.append(registry_test_run(test.pk))
        if options["json"]:
            self.stdout.write(json.dumps([_plain(t) for t in tests], indent=2, ensure_ascii=False))
        else:
            for t in tests:
                self._write(t)
        failed = [t.registry for t in tests if t.status != RegistryTest.Status.PASSED]
        if failed:
            raise CommandError(f"{len(failed)} of {len(tests)} failed: {', '.join(failed)}")

    def _write(self, t: RegistryTest) -> None:
        what = "".join([f", endpoint {t.endpoint}" if t.endpoint else "", f", image {t.image}" if t.image else ""])
        self.stdout.write(f"{t.registry}{what}: {t.get_status_display()} (test #{t.pk}, revision {t.revision})")
        self.stdout.write(f"  {t.summary}")
        for note in t.notes:
            self.stdout.write(f"  note: {note}")
        for r in t.reports:
            self.stdout.write(f"  {r['label']}: {r['outcome']} ({r['ms']} ms): {r['summary']}")
            for s in r["steps"]:
                took = f" ({s['ms']} ms)" if s["ms"] is not None else ""
                self.stdout.write(f"    [{s['outcome']}] {s['what']}: {s['text']}{took}")


def _plain(t: RegistryTest) -> dict:
    return {"id": t.pk, "cluster": t.cluster.name, "registry": t.registry, "endpoint": t.endpoint, "image": t.image,
            "revision": t.revision, "status": t.status, "summary": t.summary, "notes": t.notes,
            "endpoints": t.reports}

