"""A node's last result is said in words on the node list and the node's page ("in sync"), as the job
page says it, not as it is stored ("in_sync")."""

from __future__ import annotations

import pytest
from django.utils import timezone

from regui.inventory.models import Node
from regui.pushes.models import PushJob, PushResult

pytestmark = pytest.mark.django_db


def test_a_drift_checks_in_sync_is_said_in_words(operator_client, cluster):
    node = Node.objects.create(cluster=cluster, name="a1", address="10.0.0.1")
    job = PushJob.objects.create(cluster=cluster, kind="drift", status="done")
    PushResult.objects.create(
        job=job,
        node=node,
        node_name="a1",
        role="agent",
        status="in_sync",
        message="matches the current render",
        finished_at=timezone.now(),
    )
    for url in ("/clusters/prod/nodes/", f"/clusters/prod/nodes/{node.pk}/"):
        page = operator_client.get(url).content.decode()
        assert 'result-in_sync"' in page and ">in sync</" in page and ">in_sync<" not in page, url
