"""Drift watch on real sshd nodes through the Celery worker: a file changed by hand is reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.pushes.test_drift_watch import Receiver, webhook

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watched(stack, nodes):
    """Two real nodes regui pushed to, and a drift watch of their cluster that posts to a local receiver."""
    from regui.pushes.drift_watch import DriftWatch

    h = nodes(2)
    stack.add(h)
    stack.push()
    receiver = Receiver()
    try:
        yield h, receiver, DriftWatch.objects.create(cluster=stack.cluster, interval_minutes=1,
                                                     **webhook(receiver.url))
    finally:
        receiver.close()


def test_a_file_changed_by_hand_is_marked_drifted_and_the_webhook_gets_the_json(stack, watched):
    from regui.audit.models import AuditEvent
    from regui.inventory.models import Node
    from regui.pushes.drift_watch import DriftWatch, drift_watch_tick

    h, receiver, watch = watched
    (job,) = drift_watch_tick()
    stack.wait(job)
    assert drift_watch_tick() == []  # collects: all in sync, nothing to say; not due yet
    assert receiver.bodies == []

    h.nodes[1].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n", 0o644, 0, 0)
    DriftWatch.objects.filter(pk=watch.pk).update(last_started_at=timezone.now() - timedelta(minutes=1))
    (job,) = drift_watch_tick()
    stack.wait(job)
    drift_watch_tick()
    (body,) = receiver.bodies
    name = stack.nodes[1].name
    assert body["cluster"] == "prod"
    assert [(c["node"], c["before"], c["after"]) for c in body["changes"]] == [(name, "in_sync", "drifted")]
    assert body["counts"] == {"in_sync": 1, "drifted": 1}
    assert "push-secret-7Q" not in receiver.raw[0].decode()
    shas = {job.sha256, *(r.sha256_before for r in job.results.all())} - {""}
    assert len(shas) == 2 and not any(s in receiver.raw[0].decode() for s in shas)
    assert Node.objects.get(name=name).sync_state == "drifted"
    assert AuditEvent.objects.filter(changes__has_key="drift_watch", object_repr=name).count() == 1


def test_after_a_save_real_nodes_are_out_of_date_without_a_notice_and_a_hand_edit_is_drift(stack, watched):
    """Through the worker and real sshd nodes: a save since the push makes a drift check say "out of
    date" (nothing changed on the nodes), which the watch neither records nor sends; a hand edit then
    reads "drifted" and is sent, the out-of-date node counted apart."""
    from regui.audit.models import AuditEvent
    from regui.inventory.models import Node
    from regui.pushes.drift_watch import DriftWatch, drift_watch_tick
    from regui.pushes.selectors import node_rows
    from regui.registries.importing import registries_import
    from tests.pushes.conftest import YAML

    h, receiver, watch = watched
    stack.wait(drift_watch_tick()[0])
    drift_watch_tick()  # collects: all in sync
    registries_import(cluster=stack.cluster, text=YAML.replace(":5000\"]", ":5001\"]"), replace=True)

    def check():
        DriftWatch.objects.filter(pk=watch.pk).update(last_started_at=timezone.now() - timedelta(minutes=1))
        (job,) = drift_watch_tick()
        stack.wait(job)
        drift_watch_tick()
        return job

    job = check()
    assert {r.status for r in job.results.all()} == {"out_of_date"}
    assert {r.badge for r in node_rows(stack.cluster)} == {"out_of_date"}
    assert receiver.bodies == [] and not AuditEvent.objects.filter(changes__has_key="drift_watch").exists()

    h.nodes[1].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n", 0o644, 0, 0)
    job = check()
    edited = stack.nodes[1].name
    assert {r.node_name: r.status for r in job.results.all()} == {stack.nodes[0].name: "out_of_date",
                                                                  edited: "drifted"}
    (body,) = receiver.bodies
    assert [(c["node"], c["before"], c["after"]) for c in body["changes"]] == [(edited, "out_of_date", "drifted")]
    assert body["counts"] == {"out_of_date": 1, "drifted": 1}
    assert Node.objects.get(name=edited).sync_state == "drifted"


def test_the_beat_task_in_a_real_worker_marks_records_and_notifies_on_change_only(stack, nodes, client, make_user):
    """The tick as Celery beat sends it, run by the worker process: it starts the check, collects it
    on its next run, marks the nodes, records the changes once and POSTs them to the webhook."""
    from regui.audit.models import AuditEvent
    from regui.celery import app
    from regui.inventory.models import Node
    from regui.pushes.drift_watch import TICK_TASK, DriftWatch
    from regui.pushes.models import PushJob
    from regui.registries.models import Cluster
    from tests.pushes.real_workers import wait_for

    h = nodes(3)
    stack.add(h)
    stack.push()
    a, b, c = (n.name for n in stack.nodes)
    h.nodes[1].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n", 0o644, 0, 0)
    h.nodes[2].reject_ssh()
    receiver = Receiver()
    try:
        watch = DriftWatch.objects.create(cluster=stack.cluster, interval_minutes=1, **webhook(receiver.url))
        idle = Cluster.objects.create(name="idle", distro="k3s")
        Node.objects.create(cluster=idle, name="idle-1", address=h.nodes[0].address, port=h.nodes[0].port)
        DriftWatch.objects.create(cluster=idle)  # off by default
        last_entry = AuditEvent.objects.order_by("id").last().pk
        app.send_task(TICK_TASK)
        job = wait_for("the watch's check", lambda: DriftWatch.objects.get(pk=watch.pk).last_job, timeout=30)
        stack.wait(job)
        assert job.periodic and job.created_by_name == "drift watch"
        app.send_task(TICK_TASK)  # collects it (the next check is not due for a minute)
        wait_for("the webhook", lambda: receiver.bodies, timeout=30)
        (body,) = receiver.bodies
        assert {(x["node"], x["before"], x["after"]) for x in body["changes"]} == {
            (b, "unknown", "drifted"), (c, "unknown", "unreachable")}
        assert body["counts"] == {"in_sync": 1, "drifted": 1, "unreachable": 1}
        assert "push-secret-7Q" not in receiver.raw[0].decode()
        states = dict(Node.objects.filter(cluster=stack.cluster).values_list("name", "sync_state"))
        assert states == {a: "in_sync", b: "drifted", c: "unreachable"}
        new = AuditEvent.objects.filter(id__gt=last_entry)
        assert sorted((e.object_type, e.object_repr, tuple(next(iter(e.changes.values())))) for e in new) == [
            ("cluster", "prod", (None, "drifted, unreachable")),
            ("node", b, (None, "drifted")), ("node", c, (None, "unreachable"))]
        assert PushJob.objects.filter(kind="drift").count() == 1

        client.force_login(make_user("vera", "viewer"))
        page = client.get("/").content.decode()
        assert 'data-drifted="1" data-unreachable="1"' in page and "watched every 1 min" in page

        # The same states at the next check: nothing more in history, nothing more sent.
        DriftWatch.objects.filter(pk=watch.pk).update(last_started_at=timezone.now() - timedelta(minutes=1))
        app.send_task(TICK_TASK)
        second = wait_for("the second check", lambda: PushJob.objects.filter(kind="drift").exclude(pk=job.pk).first(),
                          timeout=30)
        stack.wait(second)
        app.send_task(TICK_TASK)
        wait_for("its collection", lambda: DriftWatch.objects.get(pk=watch.pk).collected_job_id == second.pk,
                 timeout=30)
        assert len(receiver.bodies) == 1
        assert AuditEvent.objects.filter(id__gt=last_entry).exclude(object_type="user").count() == 3  # (vera logged in)
        assert not PushJob.objects.filter(cluster=idle).exists()
    finally:
        h.nodes[2].allow_ssh()
        receiver.close()


def test_email_goes_out_through_djangos_smtp_settings_when_a_node_drops_off_and_comes_back(stack, nodes, settings):
    from regui.pushes.drift_watch import DriftWatch, drift_watch_tick
    from tests.pushes.smtp_receiver import SMTPReceiver

    h = nodes(2)
    stack.add(h)
    stack.push()
    smtp = SMTPReceiver()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp.port, 5
    settings.DEFAULT_FROM_EMAIL = "regui@example.com"
    name = stack.nodes[1].name
    try:
        watch = DriftWatch.objects.create(cluster=stack.cluster, interval_minutes=1,
                                          email_recipients="ops@example.com, oncall@example.com")

        def check() -> None:
            DriftWatch.objects.filter(pk=watch.pk).update(last_started_at=timezone.now() - timedelta(minutes=1))
            (job,) = drift_watch_tick()
            stack.wait(job)

        check()
        drift_watch_tick()
        assert smtp.messages == []  # all in sync at the first check: nothing to say
        h.nodes[1].reject_ssh()
        check()
        drift_watch_tick()
        ((to, message),) = smtp.messages
        assert to == ["ops@example.com", "oncall@example.com"] and message["From"] == "regui@example.com"
        assert message["Subject"] == "[regui] drift on cluster prod"
        assert f"{name}: in sync -> unreachable" in message.get_payload()
        h.nodes[1].allow_ssh()
        check()
        drift_watch_tick()
        assert len(smtp.messages) == 2 and f"{name}: unreachable -> in sync" in smtp.messages[1][1].get_payload()
        assert all("push-secret-7Q" not in m.as_string() for _, m in smtp.messages)
    finally:
        h.nodes[1].allow_ssh()
        smtp.close()


def test_a_webhook_that_fails_is_named_on_the_job_page_and_holds_back_no_other_clusters_check(
        stack, nodes, client, make_user):
    """Through the real worker: the tick that finds a node drifted starts the other cluster's due check
    before it POSTs to a receiver that takes its time and then answers 500, and the job page says so."""
    import time as clock

    from django.conf import settings

    from regui.celery import app
    from regui.inventory.models import Node
    from regui.pushes.drift_watch import TICK_TASK, DriftWatch
    from regui.pushes.models import PushJob
    from regui.registries.models import Cluster
    from tests.pushes.real_workers import wait_for

    h = nodes(2)
    stack.add(h)
    stack.push()
    h.nodes[1].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n", 0o644, 0, 0)
    heard: list[float] = []
    receiver = Receiver(fail=10)
    answer = receiver.server.RequestHandlerClass.do_POST

    def slow(self):
        heard.append(clock.time())
        clock.sleep(1)
        answer(self)

    receiver.server.RequestHandlerClass.do_POST = slow
    try:
        watch = DriftWatch.objects.create(cluster=stack.cluster, interval_minutes=1,
                                          **webhook(receiver.url + "?token=Hook-Secret-12"))
        app.send_task(TICK_TASK)
        job = wait_for("the watch's check", lambda: DriftWatch.objects.get(pk=watch.pk).last_job, timeout=30)
        stack.wait(job)
        stage = Cluster.objects.create(name="stage", distro="k3s")
        Node.objects.create(cluster=stage, name="stage-1", address=h.nodes[0].address, port=h.nodes[0].port)
        DriftWatch.objects.create(cluster=stage, interval_minutes=1)
        app.send_task(TICK_TASK)  # collects prod's check (a node drifted) and starts stage's
        wait_for("the job's message", lambda: "webhook" in PushJob.objects.get(pk=job.pk).message, timeout=60)
        other = PushJob.objects.get(cluster=stage)
        assert len(heard) == 1 + settings.REGUI_DRIFT_WEBHOOK_RETRIES and other.created_at.timestamp() < heard[0]
        client.force_login(make_user("vera", "viewer"))
        page = client.get(f"/jobs/{job.pk}/").content.decode()
        assert f"drift watch: {stack.nodes[1].name} drifted; webhook not delivered (answered HTTP 500)" in page
        assert "Hook-Secret-12" not in page
    finally:
        receiver.close()


def test_a_node_the_watch_could_not_check_is_marked_on_the_cluster_list(stack, nodes, client, make_user):
    from regui.inventory.models import Node
    from regui.pushes.drift_watch import DriftWatch, drift_watch_tick

    h = nodes(2)
    stack.add(h)
    stack.push()
    name = stack.nodes[1].name
    Node.objects.filter(name=name).update(host_key_approved_at=None)  # the trust gate stops its check
    DriftWatch.objects.create(cluster=stack.cluster, interval_minutes=5)
    (job,) = drift_watch_tick()
    stack.wait(job)
    drift_watch_tick()
    assert DriftWatch.objects.get().node_states == {stack.nodes[0].name: "in_sync", name: "failed"}
    client.force_login(make_user("vera", "viewer"))
    page = client.get("/").content.decode()
    assert 'data-unchecked="1"' in page and "1 not checked" in page and "no drift" not in page
