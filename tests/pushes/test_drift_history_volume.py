"""Drift checks keep history to what changed: a watch that runs every few minutes on a quiet fleet
writes nothing, a node that drifts or drops off writes its entry once, and so does the cluster."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.pushes.test_drift_watch import Receiver, watch_fleet, webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def watched(fleet, settings):
    receiver = Receiver()
    fleet = watch_fleet(fleet, settings, retries=0, **webhook(receiver.url), email_recipients="ops@example.com")
    fleet.receiver = receiver
    yield fleet
    fleet.receiver.close()


class Clock:
    """Ticks of the watch, each one interval after the last: each collects the last check and starts one."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def tick(self, times: int = 1) -> None:
        from regui.pushes.drift_watch import drift_watch_tick

        for _ in range(times):
            drift_watch_tick(self.now)
            self.now += timedelta(minutes=5)


def _entries():
    from regui.audit.models import AuditEvent

    return AuditEvent.objects.order_by("id")


def _drift_entries(since: int) -> list[tuple[str, str, tuple]]:
    return [(e.object_type, e.object_repr, tuple(next(iter(e.changes.values()))))
            for e in _entries().filter(id__gt=since)]


def test_runs_that_find_no_change_add_no_history_and_send_nothing(watched):
    from django.core import mail

    from regui.pushes.models import PushJob

    last = _entries().last().pk
    Clock().tick(6)
    assert PushJob.objects.filter(kind="drift").count() == 6  # the checks did run
    assert list(_entries().filter(id__gt=last)) == []
    assert watched.receiver.bodies == [] and mail.outbox == []


def test_a_change_adds_one_entry_per_changed_node_and_one_for_the_cluster(watched):
    from django.core import mail

    clock = Clock()
    clock.tick(2)
    last = _entries().last().pk
    watched["a1"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
    clock.tick(2)  # the check that sees it, then its collection
    assert sorted(_drift_entries(last)) == [
        ("cluster", "prod", ("in_sync", "drifted")),
        ("node", "a1", ("in_sync", "drifted"))]
    assert len(watched.receiver.bodies) == 1 and len(mail.outbox) == 1

    last = _entries().last().pk
    clock.tick(4)  # still drifted: nothing new
    assert _drift_entries(last) == [] and len(watched.receiver.bodies) == 1 and len(mail.outbox) == 1

    watched["a2"].network = "refused"
    clock.tick(2)  # a second node off: its entry, and the cluster's state gains "unreachable"
    assert sorted(_drift_entries(last)) == [("cluster", "prod", ("drifted", "drifted, unreachable")),
                                            ("node", "a2", ("in_sync", "unreachable"))]
    assert len(watched.receiver.bodies) == 2

    last = _entries().last().pk
    watched["a2"].network = "up"
    # Put back by hand: still drifted, as regui cannot tell which secret values a file it did not write
    # holds without comparing it with the render (README: Security); a push makes it regui's again.
    watched["a1"].write("/etc/rancher/k3s/registries.yaml", watched["a2"].read("/etc/rancher/k3s/registries.yaml"))
    clock.tick(2)  # a2 back in sync
    assert sorted(_drift_entries(last)) == [("cluster", "prod", ("drifted, unreachable", "drifted")),
                                            ("node", "a2", ("unreachable", "in_sync"))]
    assert {c["node"]: c["after"] for c in watched.receiver.bodies[-1]["changes"]} == {"a2": "in_sync"}
    watched.push(nodes=[n for n in watched.nodes if n.name == "a1"])
    last = _entries().last().pk
    clock.tick(2)  # a1 too, once pushed
    assert sorted(_drift_entries(last)) == [("cluster", "prod", ("drifted", "in_sync")),
                                            ("node", "a1", ("drifted", "in_sync"))]
    last = _entries().last().pk
    clock.tick(3)
    assert _drift_entries(last) == [] and len(watched.receiver.bodies) == 4


def test_the_first_check_of_a_drifted_cluster_is_recorded(watched):
    watched["a1"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
    last = _entries().last().pk
    Clock().tick(2)
    assert sorted(_drift_entries(last)) == [("cluster", "prod", (None, "drifted")), ("node", "a1", (None, "drifted"))]


def test_a_person_checking_drift_is_recorded_but_unchanged_nodes_are_not(watched, client):
    from regui.audit.models import AuditEvent

    client.force_login(watched.user)
    last = _entries().last().pk
    assert client.post("/clusters/prod/push/", {"scope": "drift"}).status_code == 302
    (entry,) = _entries().filter(id__gt=last)  # who started it, and nothing per node
    assert (entry.object_type, entry.action, entry.actor_name) == ("push_job", "push", "olivia")

    watched["a2"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
    last = _entries().last().pk
    watched.push(kind="drift")
    results = AuditEvent.objects.filter(id__gt=last, action="push_result")
    assert [(e.object_repr, e.changes["status"]) for e in results] == [("a2", [None, "drifted"])]
    last = _entries().last().pk
    watched.push(kind="drift")
    assert not AuditEvent.objects.filter(id__gt=last, action="push_result").exists()


def test_the_watch_names_itself_as_the_starter_of_its_checks(watched):
    from regui.pushes.models import PushJob

    Clock().tick()
    job = PushJob.objects.get(kind="drift")
    assert job.created_by is None and job.created_by_name == "drift watch" and job.periodic
    assert not PushJob.objects.get(kind="push").periodic


def test_only_the_newest_quiet_checks_stay_in_the_job_list(watched, settings):
    from regui.pushes.models import PushJob, PushResult

    settings.REGUI_DRIFT_WATCH_KEEP_QUIET = 3
    clock = Clock()
    clock.tick(6)
    periodic = PushJob.objects.filter(kind="drift", created_by_name="drift watch")
    assert periodic.count() == 4  # the newest 3 collected, and the one just started
    assert PushResult.objects.filter(job__kind="drift").count() == 4 * 3

    watched["a1"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
    clock.tick(1)  # collects a quiet check; the next one sees a1 drifted
    clock.tick(1)
    found = periodic.exclude(message="").get()
    assert found.message == "drift watch: a1 drifted"
    clock.tick(8)  # many quiet checks later, the one that found the change is still there
    assert periodic.filter(pk=found.pk).exists() and periodic.filter(message="").count() <= 4
    person = watched.push(kind="drift")  # a person's checks are never pruned
    clock.tick(6)
    assert PushJob.objects.filter(pk=person.pk).exists()
    assert PushJob.objects.filter(kind="push").count() == 1


def test_overlapping_ticks_collect_a_check_once_and_start_one_check(watched):
    """Two ticks that loaded the watch at the same time (a slow webhook, two workers): one records,
    notifies and starts; the other does nothing."""
    from regui.audit.models import AuditEvent
    from regui.pushes.drift_watch import DriftWatch, collect, watch_start
    from regui.pushes.models import PushJob

    clock = Clock()
    clock.tick()
    watched["a1"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
    clock.tick()  # the check that sees it has finished (eager mode), not collected yet
    first, second = (DriftWatch.objects.select_related("last_job", "cluster").get() for _ in range(2))
    last = _entries().last().pk
    assert [c.node for c in collect(first)] == ["a1"]
    assert collect(second) == []
    assert AuditEvent.objects.filter(id__gt=last).count() == 2 and len(watched.receiver.bodies) == 1

    jobs = PushJob.objects.count()
    first, second = (DriftWatch.objects.select_related("last_job", "cluster").get() for _ in range(2))
    assert watch_start(first, clock.now) is not None
    assert watch_start(second, clock.now) is None
    assert PushJob.objects.count() == jobs + 1


def test_a_mail_server_that_never_answers_does_not_hold_the_watch(watched, settings):
    import socket
    import time

    from django.conf import settings as configured

    assert 0 < configured.EMAIL_TIMEOUT <= 30  # Django's own default waits forever
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", silent.getsockname()[1], 0.5
        watched["a1"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
        clock = Clock()
        clock.tick()
        t0 = time.monotonic()
        clock.tick()  # collects: the webhook gets it, the email times out, the watch goes on
        assert time.monotonic() - t0 < 5
    assert len(watched.receiver.bodies) == 1
