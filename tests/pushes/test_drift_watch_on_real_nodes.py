"""Drift watch on real sshd nodes through the Celery worker: a file changed by hand is reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.pushes.test_drift_watch import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_file_changed_by_hand_is_marked_drifted_and_the_webhook_gets_the_json(stack, nodes):
    from regui.audit.models import AuditEvent
    from regui.inventory.models import Node
    from regui.pushes.drift_watch import DriftWatch, drift_watch_tick

    h = nodes(2)
    stack.add(h)
    stack.push()
    receiver = Receiver()
    try:
        watch = DriftWatch.objects.create(cluster=stack.cluster, interval_minutes=1, webhook_url=receiver.url)
        (job,) = drift_watch_tick()
        stack.wait(job)
        assert drift_watch_tick() == []  # collects: all in sync, nothing to say; not due yet
        assert receiver.bodies == []

        h.nodes[1].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n", 0o644, 0, 0)
        DriftWatch.objects.filter(pk=watch.pk).update(last_started_at=timezone.now() - timedelta(minutes=1))
        (job,) = drift_watch_tick()
        stack.wait(job)
        drift_watch_tick()
        (body,) = receiver.bodies
        name = stack.nodes[1].name
        assert body["cluster"] == "prod"
        assert [(c["node"], c["before"], c["after"]) for c in body["changes"]] == [(name, "in_sync", "drifted")]
        assert body["counts"] == {"in_sync": 1, "drifted": 1}
        assert "push-secret-7Q" not in receiver.raw[0].decode()
        shas = {job.sha256, *(r.sha256_before for r in job.results.all())} - {""}
        assert len(shas) == 2 and not any(s in receiver.raw[0].decode() for s in shas)
        assert Node.objects.get(name=name).sync_state == "drifted"
        assert AuditEvent.objects.filter(changes__has_key="drift_watch", object_repr=name).count() == 1
    finally:
        receiver.close()
