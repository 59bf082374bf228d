"""In-process (fake nodes): any error inside a job ends it as failed, with the reason (its type and
message, no secret value): the nodes not reached are skipped with it, none stays locked, and the job
page stops polling. Nothing stays queued: a broker that refuses the task fails the job too."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from regui.core.crypto import generate_key
from regui.pushes import rolling, steps
from regui.pushes.models import PushChunk, PushJob
from regui.pushes.services import push_job_create

pytestmark = pytest.mark.django_db(transaction=True)


def page(fleet, job) -> str:
    client = Client()
    client.force_login(fleet.user)
    return client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()


def test_a_key_ring_that_cannot_open_a_secret_fails_the_job_with_the_reason_and_contacts_no_node(fleet, settings):
    fleet.add("server", "agent")
    settings.REGUI_ENCRYPTION_KEYS = (generate_key(),)  # the key that sealed the registry password is gone
    job = fleet.push()
    assert job.status == "failed"
    assert job.message.startswith("The push stopped: the secret prod-mirror-example-com-5000-auth cannot be opened")
    assert "push-secret-7Q" not in job.message
    res = fleet.results(job)
    assert {r.status for r in res.values()} == {"skipped"}
    assert res["a1"].message.startswith("not pushed: the secret prod-mirror-example-com-5000-auth cannot be opened")
    assert fleet["s1"].connects == [] == fleet["a1"].connects
    text = page(fleet, job)
    assert "hx-trigger" not in text and "cannot be opened" in text


def test_a_database_error_inside_the_job_fails_it_and_frees_the_locks_it_took(fleet, monkeypatch):
    nodes = fleet.add("agent", "agent")

    def lost_database(*args, **kwargs):
        for node in nodes:  # as far as it got: the nodes are locked, their results running
            type(node).objects.filter(pk=node.pk).update(lock_job=PushJob.objects.get().pk)
        PushJob.objects.get().results.update(status="running")
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(rolling, "_run_nodes", lost_database)
    job = fleet.push()
    assert (job.status, job.message) == (
        "failed", "The push failed: OperationalError: server closed the connection unexpectedly. See the worker log.")
    for r in job.results.all():
        assert r.status == "failed" and "whether its file was written and its service restarted is not known" in r.message
    assert [n.lock_job for n in type(nodes[0]).objects.all()] == [None, None]
    assert set(PushChunk.objects.values_list("status", flat=True)) == {"done"}


def test_an_error_after_a_step_keeps_what_was_done_and_skips_the_rest(fleet, monkeypatch):
    fleet.add("server", "server", "agent")
    real = steps.step_after

    def broken(job, step):
        if step == 1:
            raise RuntimeError("a bug in the roll")
        return real(job, step)

    monkeypatch.setattr(steps, "step_after", broken)
    job = fleet.push()
    res = fleet.results(job)
    assert job.status == "failed" and "RuntimeError: a bug in the roll" in job.message
    assert [res[n].status for n in ("s1", "s2", "a1")] == ["changed", "changed", "skipped"]
    assert fleet["a1"].execs == [], "connected ahead (a key logs in ahead too), but given no command"


def test_a_failure_reason_never_holds_a_secret_value(fleet, monkeypatch):
    fleet.add("agent")

    def leaky(*args, **kwargs):
        raise ValueError("could not parse 'robot:push-secret-7Q'")

    monkeypatch.setattr(rolling, "_run_nodes", leaky)
    job = fleet.push()
    assert job.status == "failed" and "push-secret-7Q" not in job.message and "robot:•••" in job.message
    assert "push-secret-7Q" not in job.results.get().message


def test_a_broker_that_refuses_the_task_fails_the_job_instead_of_leaving_it_queued(fleet, monkeypatch):
    from kombu.exceptions import OperationalError as BrokerDown

    from regui.celery import app
    from regui.pushes import services

    fleet.add("agent")

    def down(job_id, chunks):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(services, "celery_send", down)
    app.conf.task_always_eager = False  # (the fleet fixture puts it back)
    job = push_job_create(cluster=fleet.cluster, user=fleet.user)
    job.refresh_from_db()
    assert job.status == "failed" and "OperationalError: Error 111 connecting" in job.message
    assert job.message.endswith("Connection refused. See the worker log."), "one full stop, not two"
    assert job.results.get().status == "skipped" and not job.is_active


def test_a_chunk_delivered_again_after_its_job_ended_does_nothing(fleet):
    fleet.add("agent")
    job = fleet.push()
    connects = len(fleet["a1"].connects)
    again = rolling.push_job_run(job.pk, 0)
    assert again.status == "done" and len(fleet["a1"].connects) == connects
