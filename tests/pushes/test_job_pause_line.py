"""The job page's "pausing until HH:MM:SS before the next step" is shown only while that time is still
ahead. A worker killed during a pause left the line on a running job, and the page went on saying
"pausing until 01:00:53" at 01:01:10, until the job was found interrupted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from regui.pushes.models import PushJob

pytestmark = pytest.mark.django_db


def job_page(client, cluster, paused_until):
    job = PushJob.objects.create(cluster=cluster, status=PushJob.Status.RUNNING, created_by_name="olivia",
                                 paused_until=paused_until)
    return client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()


def test_a_pause_still_ahead_is_shown(viewer_client, cluster):
    assert "pausing until" in job_page(viewer_client, cluster, timezone.now() + timedelta(seconds=30))


def test_a_pause_whose_time_has_passed_is_not_shown(viewer_client, cluster):
    assert "pausing until" not in job_page(viewer_client, cluster, timezone.now() - timedelta(seconds=5))
