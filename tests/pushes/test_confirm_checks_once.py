"""Confirming a push checks its render once (issue 13, the push-vs-floor target: the click waits for
everything done before the job is queued). The confirmation's check is the job's: the job is queued with
its digest, the chunk renders again and checks anything that differs from it, and reads the scope's nodes
no more than the ones it pushes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from regui.pushes import files
from regui.pushes.models import PushJob
from regui.registries.importing import registries_import

pytestmark = pytest.mark.django_db(transaction=True)
MIRROR = 'mirrors:\n  docker.io:\n    endpoint: ["https://m.example"]\n'
# What a confirming POST makes now on SQLite (22 before: a second render check, and the scope's nodes read
# beside the ones it pushes): 17, 2 since the cluster's row is locked and an identical job looked for
# (pushes/joining.py: a request for a push already on its way joins it), and 1 since the check's lint
# reads the nodes' agent flags (d253d6a).
MOST = 20


def _confirm(fleet, client, write_only: str = "1") -> tuple[int, PushJob]:
    fleet.cluster.refresh_from_db()
    data = {"confirm": "1", "scope": "all", "revision": fleet.cluster.revision, "write_only": write_only,
            "nodes": [n.pk for n in fleet.nodes]}
    with CaptureQueriesContext(connection) as capture:
        r = client.post("/clusters/prod/push/confirm/", data)
    assert r.status_code == 302
    return len(capture), PushJob.objects.latest("pk")


@pytest.fixture
def client(fleet):
    registries_import(cluster=fleet.cluster, text=MIRROR, replace=True)
    client = Client()
    client.force_login(fleet.user)
    return client


def test_confirming_a_push_checks_its_render_once_and_reads_as_much_for_thirty_nodes_as_for_three(
        fleet, queued, client, checks):
    fleet.add(*["agent"] * 3)
    # Caches filled (content types, sessions); not the push measured next, which would join this one.
    _confirm(fleet, client, write_only="")
    checks.clear()
    few, job = _confirm(fleet, client)
    assert len(checks) == 1 and job.checked_render == files.render_digest(checks[0])
    fleet.add(*["agent"] * 27)
    many, _ = _confirm(fleet, client)
    assert many == few <= MOST


def test_the_chunk_looks_again_only_at_a_render_other_than_the_one_confirmed(fleet, queued, client, checks):
    _, run = queued
    fleet.add("agent")
    _, job = _confirm(fleet, client)
    checks.clear()
    assert run(job, 0).status == "done" and checks == [], "the confirmed render needs no second look"
    _, job = _confirm(fleet, client)
    PushJob.objects.filter(pk=job.pk).update(checked_render=files.render_digest("another render"))
    checks.clear()
    assert run(job, 0).status == "done" and len(checks) == 1, "any other render is checked before it is sent"
