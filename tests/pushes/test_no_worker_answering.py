"""Pages that wait on a job say "no worker is answering" after REGUI_WORKER_WAIT instead of polling
forever. Fast tier: heartbeats written here stand for workers (tests/core/test_worker_death.py kills
real ones)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from regui.core.heartbeat import Heart, broker_identity, this_site_broker
from regui.core.models import WorkerBeat
from regui.inventory.models import Node
from regui.pushes.models import PushJob, PushResult
from tests.heartbeats import beat

pytestmark = pytest.mark.django_db
TASK = "regui.push_job_run"


@pytest.fixture(autouse=True)
def no_real_workers(settings):
    # A session's real push worker may be beating into this database; these tests set their own.
    WorkerBeat.objects.all().delete()
    settings.REGUI_WORKER_WAIT = 30


def job(cluster, status=PushJob.Status.QUEUED, age: float = 60) -> PushJob:
    node = Node.objects.create(cluster=cluster, name=f"n{PushJob.objects.count()}", address="10.0.0.1", role="agent")
    j = PushJob.objects.create(cluster=cluster, status=status, created_by_name="olivia")
    then = timezone.now() - timedelta(seconds=age)
    PushJob.objects.filter(pk=j.pk).update(created_at=then, started_at=then if status == "running" else None)
    PushResult.objects.create(job=j, node=node, node_name=node.name, role=node.role,
                              status="running" if status == "running" else "pending")
    j.refresh_from_db()
    return j


def fragment(client, j: PushJob) -> str:
    return client.get(f"/jobs/{j.pk}/", HTTP_HX_REQUEST="true").content.decode()


def test_a_job_queued_past_the_wait_with_no_worker_says_no_worker_is_answering_and_polls_slowly(viewer_client, cluster):
    page = viewer_client.get(f"/jobs/{job(cluster).pk}/").content.decode()
    assert "No worker is answering" in page and "no Celery worker has ever checked in" in page
    assert 'hx-trigger="every 5s"' in page, "still polls, slowly: a worker that starts takes the job"


def test_a_job_queued_for_less_than_the_wait_says_nothing_yet(viewer_client, cluster):
    text = fragment(viewer_client, job(cluster, age=2))
    assert "worker" not in text.lower() and 'hx-trigger="every 1s"' in text


def test_a_heartbeat_older_than_the_wait_counts_as_no_worker_and_the_page_says_since_when(viewer_client, cluster):
    beat(age=45)
    text = fragment(viewer_client, job(cluster))
    assert "No worker is answering" in text and "has checked in since" in text


def test_a_job_a_live_worker_holds_for_later_says_nothing(viewer_client, cluster):
    j = job(cluster)
    beat(["active", TASK, [j.pk + 100]], ["reserved", TASK, [j.pk]])
    text = fragment(viewer_client, j)
    assert "worker" not in text.lower() and 'hx-trigger="every 1s"' in text


def test_a_busy_worker_makes_a_queued_job_wait_without_an_alarm(viewer_client, cluster):
    j = job(cluster)
    beat(["active", TASK, [j.pk + 100]])
    text = fragment(viewer_client, j)
    assert "the worker is busy" in text and "No worker is answering" not in text
    assert 'hx-trigger="every 1s"' in text


def test_an_idle_worker_that_has_not_taken_the_job_says_its_task_may_be_lost_and_never_to_push_again(
        viewer_client, cluster):
    beat()
    text = fragment(viewer_client, job(cluster))
    assert re.search(r"No worker has taken this job in 6[0-5] s, though one is running and idle: its task may "
                     r"have been lost\.", text)
    assert "marked interrupted at the next check (every 30 s) if so" in text
    assert "Push again" not in text and 'data-worker="stalled"' in text and 'hx-trigger="every 5s"' in text


def test_a_queued_job_whose_first_chunk_a_stopped_worker_took_says_which_and_when_and_never_to_push_again(
        viewer_client, cluster):
    from regui.pushes.models import PushChunk

    j = job(cluster)
    took = timezone.now() - timedelta(seconds=45)
    PushChunk.objects.create(job=j, index=0, step=0, status="running", worker="celery@gone pid 7", started_at=took)
    beat()  # a worker answers again (restarted), idle: the chunk may still be mid-render where it was taken
    text = fragment(viewer_client, j)
    assert re.search(f"No worker has reported on this job for 4[5-9] s: celery@gone pid 7 took it at "
                     f"{timezone.localtime(took):%H:%M:%S} and may have stopped", text)
    assert "marked interrupted at the next check" in text and "Re-run unfinished nodes" in text
    assert "lost" not in text and "Push again" not in text


def test_a_worker_reading_another_queue_or_broker_does_not_count(viewer_client, cluster):
    beat(queues=("someone-elses",))
    beat(broker="redis://elsewhere:6379/0", age=5)
    text = fragment(viewer_client, job(cluster))
    assert "No worker is answering" in text and "someone-elses" in text and "this site sends to" in text


def test_a_running_job_its_worker_still_reports_keeps_polling_every_second(viewer_client, cluster):
    j = job(cluster, PushJob.Status.RUNNING)
    beat(["active", TASK, [j.pk]])
    text = fragment(viewer_client, j)
    assert "worker" not in text.lower() and 'hx-trigger="every 1s"' in text


def test_a_running_job_whose_worker_died_says_it_will_not_finish_and_polls_slowly_for_its_interruption(
        viewer_client, cluster):
    j = job(cluster, PushJob.Status.RUNNING)
    beat()  # a worker answers again (restarted), but the job went with the one that died
    text = fragment(viewer_client, j)
    assert "No worker is answering for this job" in text and "will not finish" in text
    assert "marked interrupted" in text and "Re-run unfinished nodes" in text
    assert 'hx-trigger="every 5s"' in text and 'data-worker="stalled"' in text


def test_a_running_job_with_no_worker_at_all_says_no_worker_is_answering(viewer_client, cluster):
    text = fragment(viewer_client, job(cluster, PushJob.Status.RUNNING))
    assert "No worker is answering" in text and 'hx-trigger="every 5s"' in text


def test_a_running_job_whose_next_step_waits_for_a_busy_worker_says_so_without_an_alarm(viewer_client, cluster):
    from regui.pushes.models import PushChunk

    j = job(cluster, PushJob.Status.RUNNING)
    PushChunk.objects.create(job=j, index=1, step=1)
    beat(["active", TASK, [j.pk + 100, 0]])
    text = fragment(viewer_client, j)
    assert "queued: the workers are busy" in text and "No worker is answering" not in text


def test_a_finished_job_never_mentions_workers(viewer_client, cluster):
    text = fragment(viewer_client, job(cluster, PushJob.Status.DONE))
    assert "worker" not in text.lower() and "hx-trigger" not in text


def test_the_node_list_row_of_a_job_no_worker_takes_says_so_and_polls_slowly(viewer_client, cluster):
    j = job(cluster)
    page = viewer_client.get(f"/clusters/{cluster.name}/nodes/").content.decode()
    assert "No worker is answering" in page and 'hx-trigger="every 5s"' in page
    row = viewer_client.get(f"/clusters/{cluster.name}/nodes/{j.results.get().node_id}/",
                            HTTP_HX_REQUEST="true").content.decode()
    assert "No worker is answering" in row


def test_the_node_list_row_of_a_job_that_is_only_starting_polls_every_second_without_a_word(viewer_client, cluster):
    job(cluster, age=1)
    page = viewer_client.get(f"/clusters/{cluster.name}/nodes/").content.decode()
    assert 'hx-trigger="every 1s"' in page and "worker" not in page.lower().split("<tbody>")[1]


def test_a_heartbeat_records_where_the_worker_reads_and_what_it_runs_and_goes_when_it_stops():
    from regui.celery import app

    heart = Heart("celery@test pid 1", broker_identity(app), ["celery"], every=60)
    heart.beat()
    row = WorkerBeat.objects.get(name="celery@test pid 1")
    assert row.broker == this_site_broker() and row.queues == ["celery"] and row.tasks == []
    heart.stop()
    assert not WorkerBeat.objects.filter(name="celery@test pid 1").exists()


def test_the_broker_a_heartbeat_names_never_carries_its_password():
    from types import SimpleNamespace

    import kombu

    app = SimpleNamespace(connection_for_write=lambda: kombu.Connection("redis://robot:s3cret-pw@redis.example:6379/0"))
    named = broker_identity(app)
    assert "s3cret-pw" not in named and "redis.example:6379/0" in named
