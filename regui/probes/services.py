"""Registry tests: start one (the page, the command), run one (the worker)."""

from __future__ import annotations

import logging
import time

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from regui.audit import context as audit_context
from regui.audit.services import audit_object
from regui.core.crypto import KeyringError
from regui.registries.models import Cluster
from regui.registries.selectors import cluster_foreign_secrets
from regui.remote.registry_http import OK, Limits
from regui.remote.registry_probe import MISSING, Report, probe

from .models import RegistryTest
from .plan import Plan, make_plan, probes, registry_names, with_notes
from .selectors import saved_configuration

log = logging.getLogger(__name__)
REGISTRY_TEST_TASK = "regui.registry_test_run"
IMAGE_MAX, ENDPOINT_MAX = 512, 2048
Status = RegistryTest.Status


def registry_test_problem(*, cluster: Cluster, registry: str, image: str = "", endpoint: str = "",
                          any_registry: bool = False) -> str:
    """Why this test cannot start ("" when it can), judged on the saved configuration without
    reading a secret. The page names only the saved registries; the command (`any_registry`) may
    name any, to see what a pull from it does."""
    if len(image) > IMAGE_MAX or len(endpoint) > ENDPOINT_MAX or len(registry) > 253:
        return "The registry, image or endpoint is too long."
    if "\0" in registry + image + endpoint:
        return "The registry, image or endpoint holds a NUL character."
    saved = saved_configuration(cluster)
    if not registry:
        return "Name a registry to test."
    if not any_registry and registry not in registry_names(saved.result):
        return (f"{registry} is not a registry of the saved configuration: only saved mirrors and registry "
                "authentication can be tested (save the page first).")
    return make_plan(saved.result, registry, image, endpoint).error


def registry_test_create(*, cluster: Cluster, registry: str, image: str = "", endpoint: str = "", user=None,
                         enqueue: bool = True, by: str = "") -> RegistryTest:
    """Record a test and queue it for the worker (after the commit); `enqueue=False` leaves it to the
    caller (the command runs it itself). Call registry_test_problem first."""
    actor = audit_context.current()
    test = RegistryTest(cluster=cluster, registry=registry, image=image.strip(), endpoint=endpoint,
                        revision=cluster.revision,
                        created_by=user if getattr(user, "is_authenticated", False) else None,
                        created_by_name=getattr(user, "username", "") or actor.username or by,
                        request_id=actor.request_id, source_ip=actor.source_ip)
    with transaction.atomic():
        test.save()
        registry_tests_prune(cluster)
        audit_object(test, "registry_test", {"registry": [None, registry], "endpoint": [None, endpoint or "all"],
                                             "image": [None, test.image or None]}, revision=cluster.revision,
                     message=f"started by {by}" if by else "")
        if enqueue:
            # Its id only: the worker reads the configuration, and the secrets, itself.
            transaction.on_commit(lambda: current_app.signature(REGISTRY_TEST_TASK, args=[test.pk]).delay())
    return test


def registry_tests_prune(cluster: Cluster) -> int:
    """Keep the cluster's newest REGUI_REGISTRY_TESTS_KEPT tests (0: all); one still queued or running
    stays whatever its age, for its worker writes to it. Their history entries stay. How many went."""
    kept = settings.REGUI_REGISTRY_TESTS_KEPT
    if kept <= 0:
        return 0
    old = RegistryTest.objects.filter(cluster=cluster).values_list("pk", flat=True)[kept:]
    gone, _ = RegistryTest.objects.filter(pk__in=list(old)).exclude(status__in=RegistryTest.ACTIVE).delete()
    return gone


def registry_test_run(test_id: int) -> RegistryTest:
    """Probe every endpoint of the test, in pull order, saving each report as it comes (the page
    shows them while the rest run). Only words are saved: never a secret, a token, or a digest of one."""
    taken = RegistryTest.objects.filter(pk=test_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now())
    test = RegistryTest.objects.select_related("cluster").get(pk=test_id)
    if not taken:
        return test
    try:
        _run(test)
    except KeyringError as exc:  # a key dropped from the ring: no bug, said as it is
        log.warning("registry test %s refused: %s", test_id, exc)
        reason = str(exc)  # made to follow a colon in a push's result; here it stands alone
        test.status, test.summary = Status.REFUSED, reason[:1].upper() + reason[1:]
    except Exception as exc:  # the page must not wait forever for a test that broke
        log.exception("registry test %s failed", test_id)
        test.status, test.summary = Status.FAILED, f"Internal error ({type(exc).__name__}): see the worker log."
    test.finished_at = timezone.now()
    test.save(update_fields=["status", "summary", "reports", "notes", "revision", "finished_at"])
    return test


def _run(test: RegistryTest) -> None:
    cluster = test.cluster
    if foreign := cluster_foreign_secrets(cluster):
        test.status = Status.REFUSED
        test.summary = (f"The registries use secret(s) {', '.join(foreign)} that belong to another cluster and are "
                        "not shared with this one: nothing was sent.")
        return
    saved = saved_configuration(cluster, reveal=True)
    test.revision = cluster.revision
    plan = make_plan(saved.result, test.registry, test.image, test.endpoint)
    test.notes = plan.notes
    if plan.error:
        test.status, test.summary = Status.REFUSED, plan.error
        return
    limits = Limits(request_timeout=settings.REGUI_REGISTRY_TEST_TIMEOUT, total=settings.REGUI_REGISTRY_TEST_DEADLINE)
    deadline = time.monotonic() + limits.total
    reports: list[Report] = []
    for prepared in probes(plan, saved.cri_auth, saved.files, saved.secret_names):
        if prepared.target is not None:
            report = probe(prepared.target, limits, deadline)
        else:
            assert prepared.report is not None
            report = prepared.report
        reports.append(with_notes(report, prepared.notes))
        test.reports = [r.as_dict() for r in reports]
        test.save(update_fields=["reports", "notes", "revision"])
    test.status, test.summary = verdict(plan, reports)


def verdict(plan: Plan, reports: list[Report]) -> tuple[str, str]:
    """The test's status and its one sentence: the endpoint a pull would use, or why none works."""
    count = len(reports)
    for n, r in enumerate(reports, 1):
        if r.outcome != OK:
            continue
        after = f", after {n - 1} that did not" if n > 1 else ""
        which = f"endpoint {n} of {count}{after}" if count > 1 else "the endpoint tested"
        if plan.image:
            digest = f" ({r.digest})" if r.digest else ""
            return Status.PASSED, f"Works: a pull of {plan.image} gets its manifest{digest} from {r.url} ({which})."
        return Status.PASSED, f"Works: {r.url} answers as a registry ({which}); no image was checked."
    if not reports:
        return Status.FAILED, "No endpoint to test."
    if plan.image and any(r.outcome == MISSING for r in reports):
        return Status.FAILED, f"Fails: no endpoint gives {plan.image}. {_first_failure(reports)}"
    return Status.FAILED, f"Fails: no endpoint works. {_first_failure(reports)}"


def _first_failure(reports: list[Report]) -> str:
    r = next(r for r in reports if r.outcome != OK)
    return f"Endpoint {reports.index(r) + 1}: {r.summary}"
