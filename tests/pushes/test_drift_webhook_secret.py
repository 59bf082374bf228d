"""The drift watch's webhook URL is a secret (Slack's path, a ?token=, user:password@): sealed at rest with
the key ring, never shown back, kept when its field is left empty, removable, rotated with every secret;
pages, history and logs name only its scheme, host and port."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.pushes.test_drift_watch import Receiver

pytestmark = pytest.mark.django_db(transaction=True)
PAGE = "/clusters/prod/drift-watch/"
# A token in the user part, the path and the query: none of them may show anywhere.
HOOK = "https://robot:Pass-Secret-1@hooks.example.com:8443/services/T0/B0/Path-Secret-2?token=Query-Secret-3"
SECRETS = ("Pass-Secret-1", "Path-Secret-2", "Query-Secret-3")


def _no_secret_in(text: str) -> bool:
    return not any(s in text for s in SECRETS) and "-Secret-" not in text


@pytest.fixture
def admin(fleet, make_user) -> Client:
    c = Client()
    c.force_login(make_user("alice", "admin"))
    return c


def _watch():
    from regui.pushes.drift_watch import DriftWatch

    return DriftWatch.objects.get()


def _history() -> str:
    from regui.audit.models import AuditEvent

    return " ".join(f"{e.changes} {e.message}" for e in AuditEvent.objects.all())


def _raw_rows() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM pushes_driftwatch")
        return repr(cur.fetchall())


def test_a_typed_url_is_sealed_at_rest_and_pages_history_and_logs_name_only_its_host(admin, caplog):
    with caplog.at_level(logging.DEBUG):
        r = admin.post(PAGE, {"interval_minutes": "5", "webhook_url": HOOK, "email_recipients": ""})
        assert r.status_code == 302
        page = admin.get(PAGE).content.decode()
    raw = _raw_rows()
    assert "hooks.example.com:8443" in raw, "the test reads the right table"
    assert _no_secret_in(raw) and "/services/" not in raw
    assert _watch().unseal_webhook() == HOOK
    assert "set: https://hooks.example.com:8443 — leave empty to keep it" in page
    assert _no_secret_in(page) and 'name="remove_webhook"' in page
    assert "drift watch webhook URL" in _history() and _no_secret_in(_history())
    assert _no_secret_in(caplog.text)


@pytest.mark.parametrize("other", [{"email_recipients": "not an address"}, {"interval_minutes": "99999"}])
def test_the_form_does_not_echo_a_typed_url_when_it_is_shown_again_with_an_error(admin, other):
    r = admin.post(PAGE, {"interval_minutes": "5", "webhook_url": HOOK, "email_recipients": "", **other})
    assert r.status_code == 400 and 'class="field-error"' in r.content.decode()
    assert _no_secret_in(r.content.decode()) and "hooks.example.com" not in r.content.decode()


def test_an_invalid_url_is_refused_as_before_and_not_echoed(admin):
    r = admin.post(PAGE, {"interval_minutes": "5", "email_recipients": "",
                          "webhook_url": "http://robot:Pass-Secret-1@127.0.0.1:99999/Path-Secret-2"})
    assert r.status_code == 400 and "Enter a valid URL: its port is 1 to 65535." in r.content.decode()
    assert _no_secret_in(r.content.decode())


def test_an_empty_field_keeps_the_stored_url(admin):
    from regui.audit.models import AuditEvent

    admin.post(PAGE, {"interval_minutes": "5", "webhook_url": HOOK, "email_recipients": ""})
    entries = AuditEvent.objects.count()
    r = admin.post(PAGE, {"interval_minutes": "5", "webhook_url": "", "email_recipients": "ops@example.com"})
    assert r.status_code == 302
    assert _watch().unseal_webhook() == HOOK and _watch().webhook_shown == "https://hooks.example.com:8443"
    (entry,) = AuditEvent.objects.order_by("pk")[entries:]
    assert "drift watch webhook URL" not in entry.changes


def test_a_new_url_replaces_it_and_history_says_only_which_host_and_that_it_changed(admin):
    from regui.audit.models import AuditEvent

    admin.post(PAGE, {"interval_minutes": "5", "webhook_url": HOOK, "email_recipients": ""})
    assert AuditEvent.objects.latest("pk").changes["drift watch webhook URL"] == [
        None, "https://hooks.example.com:8443"]
    admin.post(PAGE, {"interval_minutes": "5", "email_recipients": "",
                      "webhook_url": "https://hooks.example.com:8443/services/T0/B0/New-Secret-4"})
    assert AuditEvent.objects.latest("pk").changes["drift watch webhook URL"] == [
        "https://hooks.example.com:8443", "https://hooks.example.com:8443 (changed)"]
    admin.post(PAGE, {"interval_minutes": "5", "email_recipients": "", "webhook_url": "http://10.1.2.3/x?k=Q-Secret-5"})
    assert AuditEvent.objects.latest("pk").changes["drift watch webhook URL"] == [
        "https://hooks.example.com:8443", "http://10.1.2.3"]
    assert _watch().unseal_webhook() == "http://10.1.2.3/x?k=Q-Secret-5" and _no_secret_in(_history())


def test_an_admin_removes_the_webhook(admin):
    from regui.audit.models import AuditEvent

    admin.post(PAGE, {"interval_minutes": "5", "webhook_url": HOOK, "email_recipients": ""})
    r = admin.post(PAGE, {"interval_minutes": "5", "webhook_url": "", "remove_webhook": "on", "email_recipients": ""})
    assert r.status_code == 302
    w = _watch()
    assert (w.sealed, w.webhook_shown, w.unseal_webhook()) == ("", "", "")
    assert AuditEvent.objects.latest("pk").changes["drift watch webhook URL"] == [
        "https://hooks.example.com:8443", None]
    page = admin.get(PAGE).content.decode()
    assert 'name="remove_webhook"' not in page and "leave empty to keep it" not in page


def test_typing_a_url_and_removing_it_at_once_is_refused(admin):
    admin.post(PAGE, {"interval_minutes": "5", "webhook_url": HOOK, "email_recipients": ""})
    r = admin.post(PAGE, {"interval_minutes": "5", "webhook_url": "https://other.example.com/x",
                          "remove_webhook": "on", "email_recipients": ""})
    assert r.status_code == 400 and "Type a new URL or remove it, not both." in r.content.decode()
    assert _watch().unseal_webhook() == HOOK


def test_the_key_rotation_re_encrypts_the_webhook_url(fleet, settings, capsys):
    from regui.pushes.drift_watch import DriftWatch

    w = DriftWatch(cluster=fleet.cluster)
    w.seal_webhook(HOOK)
    w.save()
    before = _raw_rows()
    new = Fernet.generate_key().decode()
    settings.REGUI_ENCRYPTION_KEYS = (new, *settings.REGUI_ENCRYPTION_KEYS)
    call_command("rotate_secret_keys")
    assert "1 drift watch webhook URL(s)" in capsys.readouterr().out
    assert _raw_rows() != before
    settings.REGUI_ENCRYPTION_KEYS = (new,)
    assert _watch().unseal_webhook() == HOOK


def test_a_url_no_key_opens_is_named_on_the_job_and_the_watch_goes_on(fleet, settings, caplog):
    from django.core import mail

    from regui.core import crypto
    from regui.pushes.drift_watch import DriftWatch, drift_watch_tick
    from regui.pushes.models import PushJob

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    fleet.add("agent", "agent")
    fleet.push()
    w = DriftWatch(cluster=fleet.cluster, interval_minutes=5, email_recipients="ops@example.com")
    w.seal_webhook(HOOK)
    w.sealed = crypto.encrypt((Fernet.generate_key().decode(),), json.dumps({"v": HOOK}))  # a key since lost
    w.save()
    fleet["a1"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
    now = timezone.now()
    drift_watch_tick(now)
    with caplog.at_level(logging.WARNING):
        drift_watch_tick(now + timedelta(minutes=5))
    job = PushJob.objects.get(pk=_watch().collected_job_id)
    assert job.message.startswith("drift watch: a1 drifted; webhook not delivered (cannot open its URL: ")
    assert "REGUI_ENCRYPTION_KEYS" in job.message
    assert len(mail.outbox) == 1, "the email goes all the same"
    assert "drift watch of cluster prod: webhook not delivered" in caplog.text and _no_secret_in(caplog.text)
    assert drift_watch_tick(now + timedelta(minutes=10)), "the next check starts"


def test_a_sealed_url_reaches_the_receiver_whole(fleet, settings):
    from regui.pushes.drift_watch import DriftWatch, drift_watch_tick

    receiver = Receiver()
    try:
        fleet.add("agent")
        fleet.push()
        w = DriftWatch(cluster=fleet.cluster, interval_minutes=5)
        w.seal_webhook(receiver.url + "?token=Query-Secret-3")
        w.save()
        fleet["a1"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
        now = timezone.now()
        drift_watch_tick(now)
        drift_watch_tick(now + timedelta(minutes=5))
    finally:
        receiver.close()
    assert [c["node"] for c in receiver.bodies[0]["changes"]] == ["a1"]
    assert receiver.paths == ["/hook?token=Query-Secret-3"]


def test_a_plain_url_stored_before_is_sealed_by_the_migration_and_its_reverse_opens_it(fleet, settings):
    from django.db.migrations.executor import MigrationExecutor

    before, sealed = [("pushes", "0007_pushjob_checked_render")], [("pushes", "0008_drift_webhook_sealed")]
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("pushes", "DriftWatch")
        old.objects.create(cluster_id=fleet.cluster.pk, webhook_url=HOOK)
        assert HOOK in _raw_rows(), "stored in plain text before"

        MigrationExecutor(connection).migrate(sealed)
        assert "hooks.example.com:8443" in _raw_rows() and _no_secret_in(_raw_rows())
        assert (_watch().unseal_webhook(), _watch().webhook_shown) == (HOOK, "https://hooks.example.com:8443")

        MigrationExecutor(connection).migrate(before)  # the reverse gives the code before this its URL back
        assert HOOK in _raw_rows()
        MigrationExecutor(connection).migrate(sealed)

        # A URL no key opens: the reverse refuses, says what to do, and changes nothing.
        settings.REGUI_ENCRYPTION_KEYS = (Fernet.generate_key().decode(),)
        with pytest.raises(RuntimeError, match="webhook URL of drift watch .* cannot be opened .* Nothing was changed"):
            MigrationExecutor(connection).migrate(before)
        assert "sealed" in [c.name for c in connection.introspection.get_table_description(
            connection.cursor(), "pushes_driftwatch")] and _no_secret_in(_raw_rows())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
