"""The drift watch page says what its last collected check found and what could not be sent. A webhook
that refused the notice was noted only on that check's job, and the page named the next check (started
in the same tick, nothing in its message): an admin saw no sign that the webhook had failed."""

from __future__ import annotations

import pytest

from regui.pushes.drift_watch import DriftWatch
from regui.pushes.models import PushJob

pytestmark = pytest.mark.django_db

FAILED = "drift watch: a2 drifted; webhook not delivered (ConnectionRefusedError)"


def watch_with(cluster, message: str) -> PushJob:
    collected = PushJob.objects.create(cluster=cluster, kind="drift", status="done", message=message)
    newer = PushJob.objects.create(cluster=cluster, kind="drift", status="running")
    DriftWatch.objects.create(cluster=cluster, interval_minutes=1, last_job=newer, collected_job_id=collected.pk,
                              node_states={"a1": "in_sync", "a2": "drifted"})
    return collected


def test_a_webhook_that_failed_shows_on_the_page(operator_client, cluster):
    collected = watch_with(cluster, FAILED)
    page = operator_client.get("/clusters/prod/drift-watch/").content.decode()
    assert (f'<p id="drift-notice">Last collected: <a href="/jobs/{collected.pk}/">Drift check #{collected.pk}</a>: '
            f"{FAILED}</p>") in page


def test_a_collected_check_with_nothing_to_say_adds_nothing(operator_client, cluster):
    watch_with(cluster, "")
    assert 'id="drift-notice"' not in operator_client.get("/clusters/prod/drift-watch/").content.decode()
