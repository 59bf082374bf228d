"""Registry tests are not kept forever: starting one keeps the cluster's newest
REGUI_REGISTRY_TESTS_KEPT, never one still running, and the history of every test stays."""

from __future__ import annotations

import pytest

from regui.audit.models import AuditEvent
from regui.probes.models import RegistryTest
from regui.probes.services import registry_test_create
from regui.registries.models import Cluster

pytestmark = pytest.mark.django_db
Status = RegistryTest.Status


def start(cluster, status=Status.PASSED) -> RegistryTest:
    test = registry_test_create(cluster=cluster, registry="mirror.example.com", enqueue=False)
    RegistryTest.objects.filter(pk=test.pk).update(status=status)
    return test


def test_starting_a_test_keeps_only_the_clusters_newest_ones(cluster, settings):
    settings.REGUI_REGISTRY_TESTS_KEPT = 3
    made = [start(cluster) for _ in range(5)]
    assert list(RegistryTest.objects.filter(cluster=cluster).values_list("pk", flat=True)) == \
        [t.pk for t in reversed(made[-3:])]


def test_a_test_still_queued_or_running_is_never_removed(cluster, settings):
    settings.REGUI_REGISTRY_TESTS_KEPT = 2
    running, queued = start(cluster, Status.RUNNING), start(cluster, Status.QUEUED)
    newer = [start(cluster) for _ in range(3)]
    kept = set(RegistryTest.objects.filter(cluster=cluster).values_list("pk", flat=True))
    assert kept == {running.pk, queued.pk, newer[-1].pk, newer[-2].pk}


def test_another_clusters_tests_are_left_alone(cluster, settings):
    settings.REGUI_REGISTRY_TESTS_KEPT = 2
    other = Cluster.objects.create(name="other")
    theirs = {start(other).pk for _ in range(2)}
    for _ in range(4):
        start(cluster)
    assert set(RegistryTest.objects.filter(cluster=other).values_list("pk", flat=True)) == theirs
    assert RegistryTest.objects.filter(cluster=cluster).count() == 2


def test_the_history_of_a_removed_test_stays(cluster, settings):
    settings.REGUI_REGISTRY_TESTS_KEPT = 1
    first = start(cluster)
    start(cluster)
    assert not RegistryTest.objects.filter(pk=first.pk).exists()
    entries = AuditEvent.objects.filter(action=AuditEvent.Action.REGISTRY_TEST, cluster_id_ref=cluster.pk)
    assert entries.count() == 2 and entries.filter(object_id=str(first.pk)).exists()


def test_zero_keeps_every_test(cluster, settings):
    settings.REGUI_REGISTRY_TESTS_KEPT = 0
    for _ in range(4):
        start(cluster)
    assert RegistryTest.objects.filter(cluster=cluster).count() == 4
