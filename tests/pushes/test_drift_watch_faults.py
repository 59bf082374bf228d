"""The drift watch when things go wrong around it: a slow or failing webhook or mail server, ticks that
overlap, nodes removed between checks, a cluster deleted as its check starts, a cluster with no node,
and beat's ticks arriving a little early."""

from __future__ import annotations

import logging
import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.pushes.test_drift_watch import Receiver, watch_fleet

pytestmark = pytest.mark.django_db(transaction=True)
FILE = "/etc/rancher/k3s/registries.yaml"


@pytest.fixture
def watched(fleet, settings):
    return watch_fleet(fleet, settings, retries=0)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _tick(now):
    from regui.pushes.drift_watch import drift_watch_tick

    return drift_watch_tick(now)


def _second_cluster(fleet, name: str = "stage"):
    """Another watched cluster with one node of its own, due with prod's."""
    from regui.pushes.drift_watch import DriftWatch
    from regui.registries.models import Cluster
    from tests.fakes.fleet import register

    cluster = Cluster.objects.create(name=name, distro="k3s")
    register(cluster, fleet.fake.node(f"{name}-1"))
    return DriftWatch.objects.create(cluster=cluster, interval_minutes=5)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_slow_webhook_delays_no_other_clusters_check(watched):
    from regui.pushes.models import PushJob

    heard: list[float] = []
    receiver = Receiver()
    handle = receiver.server.RequestHandlerClass.do_POST

    def slow(self):  # the receiver takes its time before answering
        heard.append(time.time())
        time.sleep(1)
        handle(self)

    receiver.server.RequestHandlerClass.do_POST = slow
    try:
        watched.watch.seal_webhook(receiver.url)
        watched.watch.save()
        stage = _second_cluster(watched)
        now = timezone.now()
        _tick(now)
        watched["a1"].write(FILE, b"# edited by hand\n")
        _tick(now + timedelta(minutes=5))  # prod's first check: nothing to say
        _tick(now + timedelta(minutes=10))  # prod's second: a1 drifted, told to the webhook; stage's is due
    finally:
        receiver.close()
    assert len(receiver.bodies) == 1
    third = PushJob.objects.filter(cluster=stage.cluster).order_by("-created_at").first()
    assert PushJob.objects.filter(cluster=stage.cluster).count() == 3
    assert third.created_at.timestamp() < heard[0]


def test_a_webhook_that_fails_and_a_mail_server_that_refuses_are_named_on_the_job(watched, settings, caplog):
    receiver = Receiver(fail=5)
    try:
        w = watched.watch
        w.seal_webhook(receiver.url + "?token=Hook-Secret-8")
        w.email_recipients = "ops@example.com"
        w.save()
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
        watched["a1"].write(FILE, b"# edited by hand\n")
        now = timezone.now()
        _tick(now)
        with caplog.at_level(logging.WARNING):
            _tick(now + timedelta(minutes=5))
    finally:
        receiver.close()
    from regui.pushes.models import PushJob

    w.refresh_from_db()
    job = PushJob.objects.get(pk=w.collected_job_id)
    assert job.message == (
        "drift watch: a1 drifted; webhook not delivered (answered HTTP 500); "
        "email not sent (ConnectionRefusedError)"
    )
    assert "-Secret-" not in caplog.text


def test_one_clusters_error_stops_no_other_clusters_check(watched, monkeypatch, caplog):
    """prod is deleted just as its check starts: stage's check starts all the same."""
    from regui.pushes import drift_watch
    from regui.pushes.models import PushJob
    from regui.registries.models import Cluster

    stage = _second_cluster(watched)
    start = drift_watch.push_job_create

    def deleted_meanwhile(*, cluster, **kwargs):
        if cluster.name == "prod":
            Cluster.objects.filter(pk=cluster.pk).delete()
        return start(cluster=cluster, **kwargs)

    monkeypatch.setattr(drift_watch, "push_job_create", deleted_meanwhile)
    with caplog.at_level(logging.ERROR, logger="regui.pushes.drift_watch"):
        started = _tick(timezone.now())
    assert [j.cluster.name for j in started] == ["stage"]
    assert PushJob.objects.filter(cluster=stage.cluster).count() == 1
    assert "drift watch of cluster prod" in caplog.text


def test_a_tick_that_loaded_the_watch_long_ago_never_collects_an_older_check_again(watched):
    """A tick held up for two intervals must not record its stale check over the newer ones."""
    from regui.audit.models import AuditEvent
    from regui.pushes.drift_watch import DriftWatch, collect

    receiver = Receiver()
    try:
        watched.watch.seal_webhook(receiver.url)
        watched.watch.save()
        watched["a1"].write(FILE, b"# edited by hand\n")
        now = timezone.now()
        _tick(now)  # the first check sees a1 drifted
        stale = DriftWatch.objects.select_related("last_job", "cluster").get()
        watched.push()
        _tick(now + timedelta(minutes=5))  # collects the first (a1 drifted), starts the second
        _tick(now + timedelta(minutes=10))  # collects the second: a1 back in sync
        entries = AuditEvent.objects.filter(changes__has_key="drift_watch").count()
        assert collect(stale) == []
    finally:
        receiver.close()
    assert [[c["after"] for c in b["changes"]] for b in receiver.bodies] == [["drifted"], ["in_sync"]]
    assert AuditEvent.objects.filter(changes__has_key="drift_watch").count() == entries
    assert DriftWatch.objects.get().node_states["a1"] == "in_sync"


def test_a_node_removed_from_the_cluster_leaves_the_watchs_states(watched, client):
    from regui.audit.models import AuditEvent
    from regui.inventory.models import Node
    from regui.pushes.drift_watch import DriftWatch

    watched["a1"].write(FILE, b"# edited by hand\n")
    now = timezone.now()
    _tick(now)
    _tick(now + timedelta(minutes=5))
    assert DriftWatch.objects.get().node_states["a1"] == "drifted"
    Node.objects.filter(cluster=watched.cluster, name="a1").delete()
    _tick(now + timedelta(minutes=10))
    assert DriftWatch.objects.get().node_states == {"s1": "in_sync", "a2": "in_sync"}
    entry = AuditEvent.objects.filter(changes__has_key="drift_state").latest("id")
    assert entry.changes["drift_state"] == ["drifted", "in_sync"]
    client.force_login(watched.user)
    page = client.get("/clusters/prod/drift-watch/").content.decode()
    assert "All 2 nodes were in sync at the last collected check." in page


def test_the_webhook_hears_that_a_drifted_node_was_removed(watched, receiver, client):
    """Its receiver was told a1 drifted: without an end to it, that alert would stay open for ever."""
    from django.core import mail

    from regui.audit.models import AuditEvent
    from regui.inventory.models import Node

    w = watched.watch
    w.seal_webhook(receiver.url)
    w.email_recipients = "ops@example.com"
    w.save()
    watched["a1"].write(FILE, b"# edited by hand\n")
    watched["a2"].network = "refused"
    now = timezone.now()
    _tick(now)
    _tick(now + timedelta(minutes=5))
    Node.objects.filter(cluster=watched.cluster, name__in=["a1", "a2"]).delete()
    _tick(now + timedelta(minutes=10))
    assert [(c["node"], c["before"], c["after"]) for c in receiver.bodies[-1]["changes"]] == [
        ("a1", "drifted", "removed"),
        ("a2", "unreachable", "removed"),
    ]
    assert receiver.bodies[-1]["counts"] == {"in_sync": 1}
    assert "a1: drifted -> removed" in mail.outbox[-1].body
    entry = AuditEvent.objects.filter(changes__has_key="drift_watch").latest("id")
    assert (entry.object_repr, entry.changes["drift_watch"]) == ("a2", ["unreachable", "removed"])
    client.force_login(watched.user)
    page = client.get("/history/?cluster=prod")
    assert page.status_code == 200 and "drift watch: a2 is removed" in page.content.decode()


def test_a_check_is_due_at_the_tick_that_comes_a_moment_before_its_interval_is_up(watched):
    """Beat's ticks come a minute apart give or take a few milliseconds: a check every minute must
    not wait for a second tick because this one came early."""
    now = timezone.now()
    assert len(_tick(now)) == 1
    assert _tick(now + timedelta(minutes=4)) == []
    assert len(_tick(now + timedelta(minutes=5) - timedelta(seconds=0.2))) == 1


def test_a_watched_cluster_with_no_node_keeps_only_its_newest_refusals(fleet, settings):
    from regui.pushes.drift_watch import DriftWatch
    from regui.pushes.models import PushJob

    settings.REGUI_DRIFT_WATCH_KEEP_QUIET = 3
    DriftWatch.objects.create(cluster=fleet.cluster, interval_minutes=1)
    now = timezone.now()
    for minute in range(10):
        _tick(now + timedelta(minutes=minute))
    refused = PushJob.objects.filter(cluster=fleet.cluster, status="refused")
    assert 0 < refused.count() <= 4 and "No nodes" in refused.first().message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REGUI_DRIFT_WEBHOOK_TIMEOUT", "0"),
        ("REGUI_DRIFT_WEBHOOK_TIMEOUT", "-1"),
        ("REGUI_DRIFT_WEBHOOK_RETRIES", "-1"),
        ("REGUI_DRIFT_WATCH_KEEP_QUIET", "-1"),
    ],
)
def test_a_drift_watch_setting_out_of_range_stops_start_up(monkeypatch, name, value):
    """Not at the first change: a timeout of 0 fails every webhook, -1 raises in each, and a negative
    number kept made every collection fail, so the watch never checked that cluster again."""
    import runpy
    from pathlib import Path

    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=f"{name} must be"):
        runpy.run_path(str(Path(__file__).resolve().parents[2] / "regui" / "settings.py"))
