"""A real worker killed (`kill -9`) in the middle of a job, on harness nodes whose restart takes a few
seconds: the job stays "running" only until a worker starts again, which ends it as interrupted, frees
its locks and re-reads the nodes that were in flight; a re-run then finishes the job's work, and a node
already at the target sha256 reports "unchanged"."""

from __future__ import annotations

import os
import signal

import pytest

from tests.procs import QUIET, celery_worker
from tests.pushes.real_workers import cluster_with, new_queue, sender, wait_for, worker_env

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_job_leaves_the_job_interrupted_and_its_nodes_unlocked_once_a_worker_starts(
        nodes, make_user, monkeypatch, tmp_path):
    from django.conf import settings

    from regui.inventory.models import Node
    from regui.pushes import services
    from regui.pushes.models import PushJob

    h = nodes(3)
    for hn in h.nodes:
        hn.set_systemctl(restart_seconds=3)
    cluster = cluster_with("prod", h, ["server", "agent", "agent"])
    server, first, second = (n.name for n in cluster.nodes.order_by("-role", "name"))
    queue = new_queue("kill")
    env = worker_env(settings.DATA_DIR, queue)
    monkeypatch.setattr(services, "celery_send", sender(queue))
    log = tmp_path / "first.log"
    with celery_worker(env, log, flags=(*QUIET, "-n", "first@%h")) as worker:
        job = services.push_job_create(cluster=cluster, user=make_user("olivia", "operator"),
                                       policy=services.effective_policy(cluster, {"agents_at_once": "1"}))
        # The server is done and the first agent is mid-restart (its file written): now.
        on_node = h.nodes[1]  # `first`
        wait_for("the first agent mid-restart", lambda: on_node.read("/etc/rancher/k3s/registries.yaml")
                 and job.results.filter(node_name=first, status="running").exists(), log=log)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    job.refresh_from_db()
    assert job.status == "running" and Node.objects.get(name=first).lock_job == job.pk, "as the kill left it"

    with celery_worker(env, tmp_path / "second.log", flags=(*QUIET, "-n", "second@%h"), warm_stop=False):
        wait_for("the job interrupted", lambda: PushJob.objects.get(pk=job.pk).status == "interrupted", timeout=20,
                 log=tmp_path / "second.log")
        job.refresh_from_db()
        assert "first@" in job.message and "has exited" in job.message
        res = {r.node_name: r for r in job.results.all()}
        assert res[server].status == "changed"
        assert res[first].status == "interrupted" and "whether its file was written" in res[first].message
        assert (res[second].status, res[second].message) == ("interrupted", "interrupted: not pushed")
        assert not Node.objects.filter(lock_job=job.pk).exists(), "no node stays locked by it"
        assert Node.objects.get(name=first).restart_pending
        check = wait_for("the re-read", lambda: job.followups.filter(kind="drift", status="done").first(), timeout=30)
        assert [r.node_name for r in check.results.all()] == [first]

        for hn in h.nodes:  # slow restarts were for killing the worker mid-restart; the re-run waits for none
            hn.set_systemctl(restart_seconds=0)
        rerun = services.push_job_rerun(job)
        wait_for("the re-run", lambda: not PushJob.objects.get(pk=rerun.pk).is_active, timeout=60,
                 log=tmp_path / "second.log")
        res = {r.node_name: r for r in rerun.results.all()}
        assert sorted(res) == sorted([first, second])
        assert (res[first].status, res[first].restarted) == ("unchanged", True), res[first].message
        assert res[second].status == "changed" and res[second].restarted


def test_a_worker_killed_in_the_pause_between_batches_leaves_the_rest_one_click_away(
        nodes, make_user, monkeypatch, tmp_path):
    from django.conf import settings
    from django.test import Client

    from regui.inventory.models import Node
    from regui.pushes import services
    from regui.pushes.models import PushJob

    h = nodes(2)
    cluster = cluster_with("prod", h, ["agent", "agent"])
    first, second = cluster.nodes.order_by("name").values_list("name", flat=True)
    queue = new_queue("pause")
    env = worker_env(settings.DATA_DIR, queue)
    monkeypatch.setattr(services, "celery_send", sender(queue))
    user = make_user("olivia", "operator")
    with celery_worker(env, tmp_path / "first.log", flags=(*QUIET, "-n", "first@%h")) as worker:
        job = services.push_job_create(cluster=cluster, user=user, policy=services.effective_policy(
            cluster, {"agents_at_once": "1", "pause_seconds": "60"}))
        wait_for("the pause", lambda: PushJob.objects.get(pk=job.pk).paused_until, log=tmp_path / "first.log")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    with celery_worker(env, tmp_path / "second.log", flags=(*QUIET, "-n", "second@%h"), warm_stop=False):
        wait_for("the job interrupted", lambda: PushJob.objects.get(pk=job.pk).status == "interrupted", timeout=20)
        res = {r.node_name: r for r in job.results.all()}
        assert res[first].status == "changed" and res[second].message == "interrupted: not pushed"
        assert not Node.objects.filter(lock_job=job.pk).exists() and not job.followups.exists(), "none in flight"
        client = Client()
        client.force_login(user)
        assert "Re-run unfinished nodes (1)" in client.get(f"/jobs/{job.pk}/").content.decode()
        client.post(f"/clusters/{cluster.name}/push/", {"scope": "rerun", "job": job.pk})
        rerun = PushJob.objects.get(origin=job)
        wait_for("the re-run", lambda: not PushJob.objects.get(pk=rerun.pk).is_active, timeout=30)
        assert [(r.node_name, r.status) for r in rerun.results.all()] == [(second, "changed")]


def test_a_job_whose_worker_died_on_another_machine_ends_once_the_starting_worker_has_beaten_for_the_wait(
        nodes, make_user, monkeypatch, tmp_path):
    """Only its silence says that worker died: the starting worker judges it once its own heartbeat has
    been written for REGUI_WORKER_WAIT (5 s here; it may be starting just after the database was away for
    every worker), by the check it makes again at that moment; no periodic check runs here."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from regui.core.models import WorkerBeat
    from regui.pushes import services
    from regui.pushes.models import PushJob

    cluster = cluster_with("prod", nodes(1), ["agent"])
    queue = new_queue("elsewhere")
    monkeypatch.setattr(services, "celery_send", lambda job_id, chunks: None)
    job = services.push_job_create(cluster=cluster, user=make_user("olivia", "operator"))
    away, then = "celery@elsewhere pid 4242", timezone.now() - timedelta(seconds=60)
    PushJob.objects.filter(pk=job.pk).update(status="running", started_at=then)
    job.chunks.update(status="running", worker=away, started_at=then)
    WorkerBeat.objects.create(name=away, broker="redis://elsewhere", queues=[queue], started_at=then, seen_at=then,
                              tasks=[["active", "regui.push_job_run", [job.pk, 0]]])
    log = tmp_path / "worker.log"
    with celery_worker(worker_env(settings.DATA_DIR, queue), log, flags=(*QUIET, "-n", "new@%h"), warm_stop=False):
        wait_for("the job interrupted", lambda: PushJob.objects.get(pk=job.pk).status == "interrupted", timeout=30,
                 log=log)
    job.refresh_from_db()
    assert f"({away}) has not checked in since" in job.message
    (row,) = WorkerBeat.objects.filter(name__startswith="new@")
    assert (job.finished_at - row.started_at).total_seconds() >= 5, "not before its own heart had written for 5 s"
    WorkerBeat.objects.filter(name=away).delete()
