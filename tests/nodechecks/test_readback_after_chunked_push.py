"""In-process (fake nodes): a job runs as several tasks (its chunks, on any workers), so the read-back
after a push is queued once, when the whole job has ended, for every node the job restarted: not at
the end of each chunk's task, and not before the job's last node is done."""

from __future__ import annotations

import pytest

from regui.nodechecks import tasks as check_tasks
from regui.nodechecks.models import HostsReadback
from regui.pushes import rolling
from regui.pushes.models import PushJob
from regui.pushes.services import effective_policy, push_job_create
from regui.registries.selectors import cluster_render
from tests.fakes.k3s import write_hosts

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def read_backs(checks, monkeypatch):
    """Each read-back task after a push: (job id, the job's status, its results' statuses) when it ran."""
    ran: list[tuple[int, str, set[str]]] = []
    real = check_tasks.readbacks_after_push

    def spy(job_id: int):
        job = PushJob.objects.get(pk=job_id)
        ran.append((job_id, job.status, set(job.results.values_list("status", flat=True))))
        return real(job_id)

    monkeypatch.setattr(check_tasks, "readbacks_after_push", spy)
    return ran


def test_a_job_of_many_chunks_reads_back_once_when_it_has_ended_every_node_it_restarted(checks, read_backs,
                                                                                          settings):
    settings.REGUI_PUSH_CHUNK = 1
    nodes = checks.add("server", "agent", "agent", "agent", "agent")
    for name in ("s1", "a1", "a2", "a3", "a4"):
        write_hosts(checks[name], cluster_render(checks.cluster, reveal=True))
    job = checks.push(agents_at_once="2")  # server, then two steps of two one-node chunks each
    assert job.status == "done" and job.chunks.count() == 5
    assert read_backs == [(job.pk, "done", {"changed"})], "once, after the job's last node"
    backs = {b.node_id: b for b in HostsReadback.objects.all()}
    assert sorted(backs) == sorted(n.pk for n in nodes)
    assert {(b.state, b.trigger, b.job_id) for b in backs.values()} == {("agrees", "push", job.pk)}


def test_a_job_whose_first_step_is_several_chunks_at_once_reads_back_once(checks, read_backs, settings):
    settings.REGUI_PUSH_CHUNK = 1
    checks.add("agent", "agent", "agent")
    job = checks.push(agents_at_once="100%")  # three tasks started together, one of them ends the job
    assert job.status == "done" and job.chunks.count() == 3
    assert [(j, status) for j, status, _ in read_backs] == [(job.pk, "done")]
    assert HostsReadback.objects.filter(job=job).count() == 3


def test_a_job_that_fails_in_one_chunk_still_reads_back_once_the_nodes_it_restarted(checks, read_backs, settings,
                                                                                    monkeypatch):
    settings.REGUI_PUSH_CHUNK = 1
    s1, _, _ = checks.add("server", "agent", "agent")

    def boom(job, index, results, *args, **kwargs):
        if index == 2:
            raise RuntimeError("the database went away")
        return real_run(job, index, results, *args, **kwargs)

    real_run = rolling._run_nodes
    monkeypatch.setattr(rolling, "_run_nodes", boom)
    job = checks.push(agents_at_once="100%")
    assert job.status == "failed" and "RuntimeError: the database went away" in job.message
    assert len(read_backs) == 1 and read_backs[0][:2] == (job.pk, "failed")
    # Whether the other agent's chunk started before the failure ended the job depends on the
    # workers' timing; what must hold is that every node the job restarted, and only those, is read back.
    restarted = set(job.results.filter(status="changed").values_list("node_id", flat=True))
    assert s1.pk in restarted
    assert set(HostsReadback.objects.filter(job=job).values_list("node_id", flat=True)) == restarted


def test_a_refused_job_reads_nothing_back(checks, read_backs):
    checks.add("agent")
    job = push_job_create(cluster=checks.cluster, user=checks.user, nodes=[],
                          policy=effective_policy(checks.cluster))
    assert job.status == "refused" and read_backs == []
