"""The drift watch page shows its last notice: what the newest collected check that had something to say
found, and what could not be sent. A webhook that refused the notice was noted only on that check's job,
and the page named the next check (started in the same tick, nothing in its message): an admin saw no
sign that the webhook had failed. Later checks that find nothing new keep it shown."""

from __future__ import annotations

import pytest

from regui.pushes.drift_watch import DriftWatch
from regui.pushes.models import DRIFT_WATCH_ACTOR, PushJob

pytestmark = pytest.mark.django_db

FAILED = "drift watch: a2 drifted; webhook not delivered (ConnectionRefusedError)"


def check(cluster, message: str = "", status: str = "done") -> PushJob:
    return PushJob.objects.create(cluster=cluster, kind="drift", status=status, message=message,
                                  created_by_name=DRIFT_WATCH_ACTOR)


def watch_with(cluster, message: str) -> PushJob:
    noticed = check(cluster, message)
    quiet = check(cluster)  # collected later: found nothing new
    DriftWatch.objects.create(cluster=cluster, interval_minutes=1, last_job=check(cluster, status="running"),
                              collected_job_id=quiet.pk, node_states={"a1": "in_sync", "a2": "drifted"})
    return noticed


def test_a_webhook_that_failed_shows_on_the_page(operator_client, cluster):
    collected = watch_with(cluster, FAILED)
    page = operator_client.get("/clusters/prod/drift-watch/").content.decode()
    assert (f'<p id="drift-notice">Last notice: <a href="/jobs/{collected.pk}/">Drift check #{collected.pk}</a>: '
            f"{FAILED}</p>") in page


def test_a_watch_whose_checks_never_had_anything_to_say_shows_no_notice(operator_client, cluster):
    watch_with(cluster, "")
    assert 'id="drift-notice"' not in operator_client.get("/clusters/prod/drift-watch/").content.decode()


def test_a_check_a_person_started_is_not_the_watchs_notice(operator_client, cluster):
    watch_with(cluster, "")
    PushJob.objects.create(cluster=cluster, kind="drift", status="done", message="refused: no node", created_by_name="olivia")
    assert 'id="drift-notice"' not in operator_client.get("/clusters/prod/drift-watch/").content.decode()
