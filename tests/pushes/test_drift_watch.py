"""Drift watch (issue 13 item 10), fast tier: fake nodes, a local HTTP receiver, Django's locmem mail."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    """An http.server on 127.0.0.1 that keeps every JSON body POSTed to it; `fail` first answers 500."""

    def __init__(self, fail: int = 0) -> None:
        self.bodies: list[dict] = []
        self.raw: list[bytes] = []
        self.paths: list[str] = []
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                data = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.raw.append(data)
                receiver.paths.append(self.path)
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                else:
                    receiver.bodies.append(json.loads(data))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhook(url: str) -> dict[str, str]:
    """A watch's fields for this webhook URL, sealed as the settings page stores it."""
    from regui.pushes.drift_watch import DriftWatch

    watch = DriftWatch()
    watch.seal_webhook(url)
    return {"sealed": watch.sealed, "webhook_shown": watch.webhook_shown}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def watch_fleet(fleet, settings, *, retries: int, **watch):
    """A server and two agents, pushed once, under a drift watch every 5 minutes (`watch`: its other
    fields); mail goes to Django's outbox; a webhook is tried `retries` more times."""
    from regui.pushes.drift_watch import DriftWatch

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REGUI_DRIFT_WEBHOOK_RETRIES = retries
    fleet.add("server", "agent", "agent")
    fleet.push()
    fleet.watch = DriftWatch.objects.create(cluster=fleet.cluster, interval_minutes=5, **watch)
    return fleet


@pytest.fixture
def watched(fleet, settings):
    return watch_fleet(fleet, settings, retries=2)


def _tick(now=None):
    from regui.pushes.drift_watch import drift_watch_tick

    return drift_watch_tick(now)


def test_a_watch_is_off_by_default_and_starts_nothing(fleet):
    from regui.pushes.drift_watch import DriftWatch
    from regui.pushes.models import PushJob

    fleet.add("agent")
    DriftWatch.objects.create(cluster=fleet.cluster)
    assert _tick() == [] and not PushJob.objects.filter(kind="drift").exists()


def test_a_check_is_due_once_its_interval_has_passed_since_the_last_start(watched):
    now = timezone.now()
    (job,) = _tick(now)
    job.refresh_from_db()
    assert job.kind == "drift" and job.status == "done"
    assert _tick(now + timedelta(minutes=4)) == []
    assert len(_tick(now + timedelta(minutes=5))) == 1


def test_a_running_check_is_never_doubled(watched):
    from regui.pushes.drift_watch import is_due
    from regui.pushes.models import PushJob

    w = watched.watch
    w.last_job = PushJob.objects.create(cluster=w.cluster, kind="drift", status="running")
    w.last_started_at = timezone.now() - timedelta(hours=1)
    assert not is_due(w, timezone.now())


def test_drift_watch_jobs_pass_the_same_trust_gate(fleet):
    from regui.pushes.drift_watch import DriftWatch

    (node,) = fleet.add("agent", approve=False)
    DriftWatch.objects.create(cluster=fleet.cluster, interval_minutes=1)
    (job,) = _tick()
    assert job.results.get().status == "failed" and "approved" in job.results.get().message
    assert fleet.fake.execs() == []


def test_only_changed_nodes_make_history_and_notifications(watched, receiver):
    from django.core import mail

    from regui.audit.models import AuditEvent

    w = watched.watch
    w.seal_webhook(receiver.url)
    w.email_recipients = "ops@example.com, oncall@example.com"
    w.save()
    now = timezone.now()
    _tick(now)
    _tick(now + timedelta(minutes=5))  # collects the first check (all in sync): nothing to say
    assert receiver.bodies == [] and mail.outbox == []
    assert not AuditEvent.objects.filter(changes__has_key="drift_watch").exists()

    watched["a1"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
    watched["a2"].network = "refused"
    _tick(now + timedelta(minutes=10))  # collects the second: still in sync; starts the third
    _tick(now + timedelta(minutes=15))  # collects the third
    (body,) = receiver.bodies
    assert body["cluster"] == "prod"
    assert {c["node"]: (c["before"], c["after"]) for c in body["changes"]} == {
        "a1": ("in_sync", "drifted"), "a2": ("in_sync", "unreachable")}
    assert body["counts"] == {"in_sync": 1, "drifted": 1, "unreachable": 1}
    fingerprints = {c["node"]: c["fingerprint"] for c in body["changes"]}
    assert len(fingerprints["a1"]) == 20 and fingerprints["a2"] is None  # nothing was read from a2
    entries = AuditEvent.objects.filter(changes__has_key="drift_watch")
    assert sorted((e.object_repr, tuple(e.changes["drift_watch"])) for e in entries) == [
        ("a1", ("in_sync", "drifted")), ("a2", ("in_sync", "unreachable"))]
    (email,) = mail.outbox
    assert email.to == ["ops@example.com", "oncall@example.com"] and "a1: in sync -> drifted" in email.body

    _tick(now + timedelta(minutes=20))  # the same states again: no new entry, no new notification
    assert len(receiver.bodies) == 1 and entries.count() == 2

    watched.push()
    watched["a2"].network = "up"
    watched.push()
    _tick(now + timedelta(minutes=25))
    _tick(now + timedelta(minutes=30))
    assert {c["node"]: c["after"] for c in receiver.bodies[-1]["changes"]} == {"a1": "in_sync", "a2": "in_sync"}


def test_history_pages_and_emails_say_in_sync_in_words_while_the_webhook_and_export_keep_in_sync(
        watched, receiver, client):
    from django.core import mail

    from regui.audit.models import AuditEvent

    w = watched.watch
    w.seal_webhook(receiver.url)
    w.email_recipients = "ops@example.com"
    w.save()
    now = timezone.now()
    watched["a1"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
    _tick(now)
    _tick(now + timedelta(minutes=5))  # a1 drifted
    watched.push()
    _tick(now + timedelta(minutes=10))
    _tick(now + timedelta(minutes=15))  # a1 in sync again
    node = AuditEvent.objects.filter(changes__has_key="drift_watch").latest("id")
    cluster = AuditEvent.objects.filter(changes__has_key="drift_state").latest("id")
    assert node.changes["drift_watch"] == ["drifted", "in_sync"] and cluster.changes["drift_state"] == ["drifted", "in_sync"]
    assert receiver.bodies[-1]["changes"][0]["after"] == "in_sync" and receiver.bodies[-1]["counts"] == {"in_sync": 3}
    client.force_login(watched.user)
    for entry in (node, cluster):
        page = client.get(f"/history/{entry.pk}/").content.decode()
        assert "in sync" in page and "in_sync" not in page
    assert "a1: drifted -> in sync" in mail.outbox[-1].body and "Nodes: 3 in sync" in mail.outbox[-1].body
    assert "in_sync" not in mail.outbox[-1].body
    export = b"".join(client.get("/history/export.csv").streaming_content).decode()
    assert '""drift_watch"": [""drifted"", ""in_sync""]' in export


def test_a_notification_holds_no_sha256_and_no_secret(watched, receiver):
    from django.core import mail

    from regui.pushes.models import PushResult

    w = watched.watch
    w.seal_webhook(receiver.url)
    w.email_recipients = "ops@example.com"
    w.save()
    watched["a1"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
    now = timezone.now()
    _tick(now)
    _tick(now + timedelta(minutes=5))
    assert len(receiver.raw) == 1
    shas = {s for r in PushResult.objects.all() for s in (r.sha256_before, r.sha256_after) if s}
    assert shas
    sent = receiver.raw[0].decode() + mail.outbox[0].body
    assert not any(s in sent for s in shas)
    assert "push-secret-7Q" not in sent


def test_a_failing_webhook_is_retried_a_bounded_number_of_times():
    from regui.pushes.drift_webhook import webhook_deliver

    r = Receiver(fail=10)
    try:
        assert webhook_deliver(r.url, {"x": 1}, timeout=2, retries=2) == "answered HTTP 500"
        assert len(r.raw) == 3
        r.fail = 1
        assert webhook_deliver(r.url, {"x": 2}, timeout=2, retries=2) == ""
        assert r.bodies == [{"x": 2}]
    finally:
        r.close()


def test_a_webhook_that_does_not_answer_times_out():
    import socket
    import time

    from regui.pushes.drift_webhook import webhook_deliver

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        t0 = time.monotonic()
        assert webhook_deliver(f"http://127.0.0.1:{s.getsockname()[1]}/", {}, timeout=0.5, retries=0) != ""
        assert time.monotonic() - t0 < 3
