"""The push job page: one row per node, polled every second while the job runs, not after."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from regui.pushes.models import OUTPUT_CAP, PushJob, PushResult
from regui.pushes.services import _finish

pytestmark = pytest.mark.django_db


def make_job(cluster, status):
    job = PushJob.objects.create(cluster=cluster, status=status, created_by_name="olivia")
    for name in ("s1", "a1"):
        node = Node.objects.create(cluster=cluster, name=name, address="10.0.0.1", role="server" if name == "s1" else "agent")
        PushResult.objects.create(job=job, node=node, node_name=name, role=node.role,
                                  status="running" if status == "running" else "changed", message=f"{name} msg")
    return job


def test_a_running_job_polls_every_second(viewer_client, cluster):
    job = make_job(cluster, PushJob.Status.RUNNING)
    page = viewer_client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and page.count('class="result-row"') == 2
    fragment = viewer_client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="job-results"') and "<html" not in fragment


def test_a_finished_job_stops_polling(viewer_client, cluster):
    job = make_job(cluster, PushJob.Status.DONE)
    fragment = viewer_client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and "s1 msg" in fragment


def test_a_drift_check_has_no_restarted_column_a_push_has(viewer_client, cluster):
    push = make_job(cluster, PushJob.Status.DONE)
    drift = PushJob.objects.create(cluster=cluster, kind="drift", status="done")
    PushResult.objects.create(job=drift, node=Node.objects.get(name="a1"), node_name="a1", role="agent",
                              status="failed", message="no approved host key")
    pushed = viewer_client.get(f"/jobs/{push.pk}/").content.decode()
    assert "<th>Restarted</th>" in pushed and "<td>no</td>" in pushed
    checked = viewer_client.get(f"/jobs/{drift.pk}/").content.decode()
    assert "<th>Restarted</th>" not in checked and "<td>no</td>" not in checked and "no approved host key" in checked


def test_stored_output_is_capped_at_64_kib(cluster):
    job = make_job(cluster, PushJob.Status.RUNNING)
    result = job.results.first()
    result.output = "x" * (OUTPUT_CAP + 5000)
    _finish(result, "changed", "ok")
    result.refresh_from_db()
    assert len(result.output) == OUTPUT_CAP == 64 * 1024
