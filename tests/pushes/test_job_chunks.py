"""In-process (fake nodes): a job's steps go to the workers as chunks (tasks) of at most REGUI_PUSH_CHUNK
nodes, so several workers share a large step; the last chunk of a step queues the next, the last of the
job ends it, once, whatever order they finish in. Eager mode runs a step's chunks in threads, as
workers would (tests/pushes/test_two_workers.py: two real workers)."""

from __future__ import annotations

import pytest

from regui.celery import app
from regui.pushes import rolling, services
from regui.pushes.models import PushChunk
from regui.registries.importing import registries_import
from tests.fakes.ssh import max_overlap

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_large_step_runs_as_several_chunks_at_once_and_the_job_ends_once(fleet, fake_ssh, settings):
    settings.REGUI_PUSH_CHUNK = 2
    fleet.add("server", *["agent"] * 7)
    for node in fleet.fake.nodes.values():
        node.set_systemctl(restart_seconds=0.3)
    job = fleet.push(agents_at_once="100%")
    assert job.status == "done" and job.chunks_left == 0 and job.finished_at
    assert {r.status for r in job.results.all()} == {"changed"}
    chunks = list(job.chunks.order_by("index"))
    assert [(c.step, c.status) for c in chunks] == [(0, "done")] + [(1, "done")] * 4
    assert sorted(job.results.filter(step=1).values_list("chunk", flat=True)) == [1, 1, 2, 2, 3, 3, 4]
    agents = [e.span for e in fake_ssh.execs() if e.node.startswith("a")]
    assert max_overlap(agents) == 7, "the step's chunks ran at once"


def test_many_chunks_finishing_together_queue_the_next_step_exactly_once(fleet, settings):
    settings.REGUI_PUSH_CHUNK = 1
    fleet.add(*["agent"] * 12)
    job = fleet.push(agents_at_once="6")  # two steps of six one-node chunks, finishing within milliseconds
    assert job.status == "done" and {r.status for r in job.results.all()} == {"changed"}
    assert PushChunk.objects.filter(job=job).count() == 12
    assert sorted(job.chunks.values_list("step", flat=True)) == [0] * 6 + [1] * 6


def test_a_chunk_that_starts_after_the_registries_changed_pushes_nothing_and_says_why(fleet, monkeypatch, settings):
    settings.REGUI_PUSH_CHUNK = 1
    fleet.add("server", "agent", "agent")
    sent: list[int] = []
    monkeypatch.setattr(services, "celery_send", lambda job_id, chunks: sent.extend(chunks))
    app.conf.task_always_eager = False
    try:
        job = services.push_job_create(cluster=fleet.cluster, user=fleet.user,
                                       policy=services.effective_policy(fleet.cluster, {"agents_at_once": "2"}))
        assert sent == [0]
        rolling.push_job_run(job.pk, 0, send=lambda job_id, chunks: sent.extend(chunks))  # the server
        assert sent == [0, 1, 2], "the agents' step: two chunks, for any worker"
        registries_import(cluster=fleet.cluster, replace=True,
                          text='mirrors:\n  docker.io:\n    endpoint: ["https://other.example.com"]\n')
        for chunk in (1, 2):
            job = rolling.push_job_run(job.pk, chunk, send=lambda job_id, chunks: sent.extend(chunks))
    finally:
        app.conf.task_always_eager = True
    res = fleet.results(job)
    assert res["s1"].status == "changed" and job.status == "failed"  # tests/pushes/test_job_pushes_its_revision.py
    for agent in ("a1", "a2"):
        assert res[agent].status == "skipped" and "the registries changed since this push was confirmed" in res[
            agent].message
        assert fleet[agent].connects == []


def test_consecutive_single_chunk_steps_run_in_one_task_connected_ahead_of_time(fleet, fake_ssh):
    fleet.add("server", "server", "agent")
    for node in fleet.fake.nodes.values():
        node.set_systemctl(restart_seconds=0.3)
    job = fleet.push()
    assert job.status == "done"
    assert list(job.chunks.values_list("index", "step", "status")) == [(0, 0, "done"), (1, 1, "done"), (2, 2, "done")]
    s1, s2 = (next(e.span for e in fake_ssh.execs() if e.node == name) for name in ("s1", "s2"))
    (opened,) = fleet["s2"].handshakes
    assert opened <= fleet["s2"].connects[0].at < s1.end, "s2 was connected and logged in (a key) during s1's step"
    assert s1.end <= s2.start, "and given its program only when its turn came"
    assert len(fleet["s2"].connects) == 1 == len(fleet["a1"].connects) == len(fleet["a1"].handshakes)


def test_a_node_with_a_password_logs_in_only_when_its_turn_comes(fleet, fake_ssh):
    fleet.add("server", "server", credential="s3cret-pass")
    fleet["s1"].set_systemctl(restart_seconds=0.3)
    job = fleet.push()
    assert job.status == "done"
    s1, s2 = (next(e.span for e in fake_ssh.execs() if e.node == name) for name in ("s1", "s2"))
    (opened,) = fleet["s2"].handshakes
    assert opened < s1.end <= fleet["s2"].connects[0].at <= s2.start, "shaken hands ahead, the password sent at its turn"


def test_a_node_skipped_after_its_connection_was_opened_ahead_gets_no_command(fleet):
    fleet.add("server", "server")
    fleet["s1"].set_systemctl(restart_seconds=0.3, restart_fails=True)
    res = fleet.results(fleet.push())
    assert res["s2"].status == "skipped"
    assert fleet["s2"].handshakes and fleet["s2"].execs == []
    assert len(fleet["s2"].connects) == 1, "logged in ahead with its key: a signature for that connection only"


def test_a_node_with_a_password_skipped_after_its_connection_was_opened_ahead_gets_no_password(fleet):
    fleet.add("server", "server", credential="s3cret-pass")
    fleet["s1"].set_systemctl(restart_seconds=0.3, restart_fails=True)
    res = fleet.results(fleet.push())
    assert res["s2"].status == "skipped"
    assert fleet["s2"].handshakes and fleet["s2"].connects == [] and fleet["s2"].execs == []


def test_a_job_queued_before_plans_existed_is_planned_when_it_runs(fleet):
    from regui.pushes.models import PushJob, PushResult

    (node,) = fleet.add("agent")
    job = PushJob.objects.create(cluster=fleet.cluster, created_by_name="olivia")
    PushResult.objects.create(job=job, node=node, node_name=node.name, role=node.role)
    job = rolling.push_job_run(job.pk)
    assert job.status == "done" and job.results.get().status == "changed" and job.chunks.count() == 1


def test_a_key_refused_ahead_of_time_is_tried_again_at_its_turn_and_the_push_says_why(fleet):
    fleet.add("server", "server")
    fleet["s1"].set_systemctl(restart_seconds=0.3)
    fleet["s2"].credential = "-----BEGIN OPENSSH PRIVATE KEY-----\nanother key\n"  # s2 no longer takes regui's key
    res = fleet.results(fleet.push())
    assert res["s1"].status == "changed" and res["s2"].status == "failed"
    assert "refused" in res["s2"].message and fleet["s2"].execs == []
    assert len(fleet["s2"].connects) == 2, "once ahead, once at its turn"
