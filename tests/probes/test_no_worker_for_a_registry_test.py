"""A registry test's result says "no worker is answering" after REGUI_WORKER_WAIT instead of polling
forever, read from the workers' heartbeats as the push job page does (regui/pushes/liveness.py).
Fast tier: heartbeats written here stand for workers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from regui.core.models import WorkerBeat
from regui.probes.models import RegistryTest
from tests.heartbeats import beat

pytestmark = pytest.mark.django_db
TASK = "regui.registry_test_run"


@pytest.fixture(autouse=True)
def no_real_workers(settings):
    WorkerBeat.objects.all().delete()
    settings.REGUI_WORKER_WAIT = 30


def registry_test(cluster, status=RegistryTest.Status.QUEUED, age: float = 60) -> RegistryTest:
    t = RegistryTest.objects.create(cluster=cluster, registry="docker.io", status=status, created_by_name="olivia")
    then = timezone.now() - timedelta(seconds=age)
    RegistryTest.objects.filter(pk=t.pk).update(created_at=then, started_at=then if status == "running" else None)
    t.refresh_from_db()
    return t


def fragment(client, t: RegistryTest) -> str:
    return client.get(f"/registry-tests/{t.pk}/", HTTP_HX_REQUEST="true").content.decode()


def test_a_test_queued_past_the_wait_with_no_worker_says_no_worker_is_answering_and_polls_slowly(viewer_client, cluster):
    text = fragment(viewer_client, registry_test(cluster))
    # 60 s old when made; a loaded machine may take a second or two before the page is rendered.
    assert re.search(r"No worker is answering: this test has waited 6[0-5] s", text)
    assert "no Celery worker has ever checked in" in text and 'data-worker="stalled"' in text
    assert 'hx-trigger="every 5s"' in text, "still polls, slowly: a worker that starts takes the test"


def test_a_test_queued_for_less_than_the_wait_says_nothing_yet(viewer_client, cluster):
    text = fragment(viewer_client, registry_test(cluster, age=2))
    assert "worker" not in text.lower() and 'hx-trigger="every 1s"' in text


def test_a_test_a_live_worker_holds_says_nothing(viewer_client, cluster):
    t = registry_test(cluster)
    beat(["reserved", TASK, [t.pk]])
    assert "worker" not in fragment(viewer_client, t).lower()


def test_an_idle_worker_that_never_took_the_test_means_its_task_was_lost(viewer_client, cluster):
    beat()
    text = fragment(viewer_client, registry_test(cluster))
    assert re.search(r"a worker is running and idle, but has not taken it in 6[0-5] s, so its task was lost\. "
                     r"Test again\.", text)


def test_a_running_test_whose_worker_stopped_will_not_finish_and_is_no_longer_polled(viewer_client, cluster):
    text = fragment(viewer_client, registry_test(cluster, status=RegistryTest.Status.RUNNING))
    assert "No worker is answering for this test: the worker running it stopped" in text
    assert "It will not finish. Test again." in text and "hx-trigger" not in text


def test_a_running_test_its_worker_runs_says_nothing(viewer_client, cluster):
    t = registry_test(cluster, status=RegistryTest.Status.RUNNING)
    beat(["active", TASK, [t.pk]])
    text = fragment(viewer_client, t)
    assert "worker" not in text.lower() and 'hx-trigger="every 1s"' in text


def test_a_push_job_with_the_same_id_is_not_mistaken_for_the_test(viewer_client, cluster):
    t = registry_test(cluster, status=RegistryTest.Status.RUNNING)
    beat(["active", "regui.push_job_run", [t.pk]])
    assert "the worker that was running it stopped" in fragment(viewer_client, t)
