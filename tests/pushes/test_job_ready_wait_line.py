"""While a push waits (up to REGUI_READY_WAIT) for restarted nodes to report Ready in Kubernetes, the
job page says so: on which nodes (a few names, then a count) and since when. It said only "running"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from regui.pushes.models import PushJob, PushResult

pytestmark = pytest.mark.django_db
SINCE = datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC)
Status = PushResult.Status


def job_page(client, cluster, waiting, status=PushJob.Status.RUNNING, others=("s1",)):
    job = PushJob.objects.create(cluster=cluster, status=status, created_by_name="olivia")
    for name in waiting:
        PushResult.objects.create(job=job, node_name=name, role="agent", status=Status.RUNNING, ready_since=SINCE)
    for name in others:
        PushResult.objects.create(job=job, node_name=name, role="server", status=Status.CHANGED)
    return client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()


def test_the_nodes_waiting_for_ready_are_named_with_the_time_the_wait_began(viewer_client, cluster):
    page = job_page(viewer_client, cluster, ["a1", "a2"])
    assert "waiting for Ready in Kubernetes since 01:02:03 (at most 120 s): a1, a2" in page


def test_many_nodes_waiting_are_named_by_a_few_then_counted(viewer_client, cluster):
    page = job_page(viewer_client, cluster, [f"a{i}" for i in range(1, 8)])
    assert "(at most 120 s): a1, a2, a3 and 4 more" in page


def test_nothing_is_said_of_ready_when_no_node_waits_for_it(viewer_client, cluster):
    assert "waiting for Ready" not in job_page(viewer_client, cluster, [])


def test_a_wait_in_a_job_that_ended_is_not_shown(viewer_client, cluster):
    assert "waiting for Ready" not in job_page(viewer_client, cluster, ["a1"], status=PushJob.Status.INTERRUPTED)


@pytest.mark.django_db(transaction=True)
def test_a_node_held_for_the_ready_gate_records_since_when_it_waited(fleet, settings):
    settings.REGUI_READY_WAIT, settings.REGUI_READY_POLL = 20, 0.2
    fleet.add("server", "agent")
    res = fleet.results(fleet.push(ready_gate=True))
    assert res["a1"].status == "changed" and res["a1"].message.endswith("; Ready in Kubernetes")
    assert res["a1"].ready_since is not None and res["a1"].started_at <= res["a1"].ready_since
