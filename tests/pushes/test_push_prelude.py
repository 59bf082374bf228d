"""What a push does before its nodes log in, done once and early (issue 13, the push-vs-floor target):
the job, its results and its first chunks are recorded planned, in a number of statements that does
not grow with the nodes; a chunk rendering the very file checked when the job was created does not
check it again (a render it was not told about is checked); the chunk's nodes come with their logins
and routes, their shared cluster read once; their handshakes start once the chunk's render is known
good (a render made while 30-100 handshakes held the worker's CPUs took 0.2-1 s, and every node's push
waited for it), so a chunk that writes nothing opens no connection at all."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regui.inventory.jumphosts.models import NodeJumpHost
from regui.inventory.models import Node
from regui.inventory.services import node_target
from regui.pushes import files, rolling, services
from regui.pushes.models import PushChunk, PushJob
from regui.registries.importing import registries_import
from tests.jumphosts.helpers import register_jump_host

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_job_is_recorded_planned_in_as_many_statements_for_thirty_nodes_as_for_three(fleet, queued):
    def create() -> PushJob:
        return services.push_job_create(cluster=fleet.cluster, user=fleet.user, restart=False,
                                        policy=services.effective_policy(fleet.cluster, {"agents_at_once": "100%"}))

    fleet.add(*["agent"] * 3)
    create()  # caches filled (content types)
    with CaptureQueriesContext(connection) as few:
        create()
    fleet.add(*["agent"] * 27)
    with CaptureQueriesContext(connection) as many:
        job = create()
    assert len(many) == len(few)
    assert [(r.step, r.chunk) for r in job.results.all()] == [(0, 0)] * 30
    assert list(PushChunk.objects.filter(job=job).values_list("index", "step", "status")) == [(0, 0, "queued")]
    assert (job.step, job.chunks_left) == (0, 1)


def test_a_chunk_does_not_check_again_the_render_checked_when_its_job_was_created(fleet, queued, checks):
    _, run = queued
    fleet.add("agent", "agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, restart=False)
    assert len(checks) == 1 and job.checked_render == files.render_digest(checks[0])
    job = run(job, 0)
    assert job.status == "done" and len(checks) == 1
    assert {r.status for r in job.results.all()} == {"changed"}


def test_a_chunk_checks_a_render_it_was_not_told_was_checked(fleet, queued, checks):
    _, run = queued
    fleet.add("agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, restart=False)
    PushJob.objects.filter(pk=job.pk).update(checked_render="")  # e.g. a job queued by an older regui
    job = run(job, 0)
    assert job.status == "done" and len(checks) == 2 and checks[0] == checks[1]


def test_a_chunk_refuses_a_render_that_fails_the_check_it_was_not_spared(fleet, fake_ssh, queued, monkeypatch):
    _, run = queued
    fleet.add("agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, restart=False)
    PushJob.objects.filter(pk=job.pk).update(checked_render="0" * 64)

    def refuse(cluster, text):
        raise files.RenderRefused("Lint errors must be fixed before a push: broken on purpose")

    monkeypatch.setattr(files, "_check", refuse)
    job = run(job, 0)
    assert job.status == "refused" and "broken on purpose" in job.message
    assert fake_ssh.execs() == [] and fleet["a1"].read(fleet.cluster.registries_path) is None


def test_a_chunks_nodes_connect_without_a_query_through_their_own_or_their_clusters_jump_host(
        fleet, django_assert_num_queries):
    cluster_bastion = register_jump_host(fleet.fake.jump_host("bastion-1"), cluster=fleet.cluster)
    own_bastion = register_jump_host(fleet.fake.jump_host("bastion-2"))
    by_cluster, by_own, direct = fleet.add("agent", "agent", "agent")
    NodeJumpHost.objects.create(node=by_own, jump_host=own_bastion, chosen_by="alice")
    NodeJumpHost.objects.create(node=direct, jump_host=None, chosen_by="alice")
    job = PushJob.objects.create(cluster=fleet.cluster)
    with django_assert_num_queries(2):  # the cluster (with its jump host), then the nodes (with theirs)
        nodes = rolling._nodes_with_routes(job, [by_cluster.pk, by_own.pk, direct.pk])
    with django_assert_num_queries(0):
        routes = {nodes[n.pk].name: node_target(nodes[n.pk]).jump for n in (by_cluster, by_own, direct)}
    assert routes["a1"] is not None and routes["a1"].name == cluster_bastion.name
    assert routes["a2"] is not None and routes["a2"].name == own_bastion.name
    assert routes["a3"] is None
    assert len({id(node.cluster) for node in nodes.values()}) == 1, "one cluster object, shared"


def test_a_chunks_handshakes_start_once_its_render_is_made_and_checked(fleet, queued, monkeypatch):
    _, run = queued
    fleet.add("agent", "agent", "agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, restart=False)
    during: list[int] = []
    real = rolling.cluster_files

    def render(cluster, **kwargs):
        time.sleep(0.1)  # a handshake started before the render would have begun by now
        during.append(sum(len(fleet[name].handshakes) for name in ("a1", "a2", "a3")))
        return real(cluster, **kwargs)

    monkeypatch.setattr(rolling, "cluster_files", render)
    job = run(job, 0)
    assert during == [0] and job.status == "done"
    for name in ("a1", "a2", "a3"):
        assert len(fleet[name].handshakes) == 1 and len(fleet[name].connects) == 1, "the opened one is used"


def test_a_refused_render_opens_no_connection_to_the_nodes(fleet, fake_ssh, queued, monkeypatch):
    _, run = queued
    fleet.add("agent", "agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, restart=False)
    PushJob.objects.filter(pk=job.pk).update(checked_render="")

    def refuse(cluster, text):
        raise files.RenderRefused("Lint errors must be fixed before a push: broken on purpose")

    monkeypatch.setattr(files, "_check", refuse)
    assert run(job, 0).status == "refused"
    time.sleep(0.1)  # a handshake started and left behind would show by now
    for name in ("a1", "a2"):
        assert fleet[name].handshakes == [] and fleet[name].connects == [], "no connection, so no credential"
    assert fake_ssh.execs() == []


def test_a_save_since_the_confirmation_opens_no_connection_to_the_nodes(fleet, fake_ssh, queued):
    _, run = queued
    fleet.add("agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, restart=False)
    registries_import(cluster=fleet.cluster, replace=True,
                      text='mirrors:\n  docker.io:\n    endpoint: ["https://other.example.com"]\n')
    assert run(job, 0).status == "failed"
    time.sleep(0.1)
    assert fleet["a1"].handshakes == [] and fleet["a1"].connects == [] and fake_ssh.execs() == []


def test_a_node_whose_handshake_fails_is_not_tried_again_by_its_push(fleet, monkeypatch, settings):
    settings.REGUI_SSH_RETRIES, settings.REGUI_SSH_BACKOFF = 3, 0
    fleet.add("agent", "agent")
    fleet["a2"].network = "refused"
    calls: list[tuple[str, str, int]] = []
    real_handshake, real_connect = fleet.fake.handshake, fleet.fake.connect

    def handshake(target, **kwargs):
        calls.append(("handshake", target.address, kwargs["retries"]))
        return real_handshake(target, **kwargs)

    def connect(target, **kwargs):
        calls.append(("connect", target.address, kwargs["retries"]))
        return real_connect(target, **kwargs)

    monkeypatch.setattr(fleet.fake, "handshake", handshake)
    monkeypatch.setattr(fleet.fake, "connect", connect)
    results = fleet.results(fleet.push(restart=False))
    assert results["a1"].status == "changed" and results["a2"].status == "unreachable"
    down = fleet.cluster.nodes.get(name="a2").address
    assert [c for c in calls if c[1] == down] == [("handshake", down, 3)], "once, with the configured retries"


def test_each_nodes_credential_is_unsealed_once_per_push(fleet, monkeypatch):
    unsealed: list[str] = []
    real = Node.unseal_credential

    def unseal(node):
        unsealed.append(node.name)
        return real(node)

    monkeypatch.setattr(Node, "unseal_credential", unseal)
    fleet.add("agent", "agent", "agent")
    job = fleet.push(restart=False)
    assert {r.status for r in job.results.all()} == {"changed"}
    assert sorted(unsealed) == ["a1", "a2", "a3"], "the trust gate's target, from the handshake to the login"


def test_a_node_the_trust_gate_refuses_gets_its_message_and_no_connection(fleet):
    [node] = fleet.add("agent")
    Node.objects.filter(pk=node.pk).update(host_key="", host_key_approved_at=None)
    result = fleet.results(fleet.push(restart=False))["a1"]
    assert result.status == "failed" and result.message.startswith("no approved host key")
    assert fleet["a1"].handshakes == [] and fleet["a1"].connects == []


def test_a_chunk_whose_job_ended_meanwhile_ends_without_waiting_for_a_slow_handshake(fleet, fake_ssh, queued,
                                                                                     monkeypatch):
    _, run = queued
    fleet.add("agent")
    job = services.push_job_create(cluster=fleet.cluster, user=fleet.user, restart=False)
    release, closed, begun = threading.Event(), threading.Event(), threading.Event()
    real = fake_ssh.handshake

    def slow(target, **kwargs):  # an unreachable node's timeouts and retries, until released
        begun.set()
        release.wait(10)
        opening = real(target, **kwargs)
        monkeypatch.setattr(opening, "close", closed.set)
        return opening

    def ended_meanwhile(job, results):  # interrupted by the recovery, or failed in another chunk
        assert begun.wait(5), "the handshakes had started"
        return None

    monkeypatch.setattr(fake_ssh, "handshake", slow)
    monkeypatch.setattr(rolling, "start_all", ended_meanwhile)
    started = time.monotonic()
    run(job, 0)
    assert time.monotonic() - started < 5, "the chunk ended without waiting for the handshake"
    release.set()
    assert closed.wait(5), "the handshake, once done, closed its connection itself"
    assert fleet["a1"].connects == [] and fake_ssh.execs() == []
