"""Where drift notifications go is an admin's choice, and the webhook is bounded: attacker-style tests.

An operator may turn the watch on and set its interval, but a webhook URL or email address would send
the fleet's state to a host of their choosing: only admins set those. The webhook speaks http(s) only,
follows no redirect, gives up within its deadline, and logs no part of the URL that may hold a token."""

from __future__ import annotations

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.pushes.test_drift_watch import Receiver, webhook

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/clusters/prod/drift-watch/"


@pytest.fixture
def routed(fleet):
    """prod's watch, its notifications set by an admin to a receiver with a token in its URL."""
    from regui.pushes.drift_watch import DriftWatch

    fleet.add("agent")
    watch = DriftWatch.objects.create(cluster=fleet.cluster, interval_minutes=0,
                                      **webhook("https://hooks.example.com/T0/B0/tok-Secret-99?sig=q-Secret-77"),
                                      email_recipients="ops@example.com")
    return watch


def _client(make_user, name, role):
    from django.test import Client

    c = Client()
    c.force_login(make_user(name, role))
    return c


def test_an_operator_sets_the_interval_but_cannot_redirect_notifications(routed, make_user):
    from regui.audit.models import AuditEvent

    op = _client(make_user, "oscar", "operator")
    page = op.get(URL).content.decode()
    # No field for either, and the page names only the webhook's host, not its token.
    assert 'name="webhook_url"' not in page and 'name="email_recipients"' not in page
    assert "https://hooks.example.com" in page and "-Secret-" not in page and "ops@example.com" not in page
    r = op.post(URL, {"interval_minutes": "10", "webhook_url": "http://attacker.example.net/grab",
                      "email_recipients": "me@attacker.example.net"})
    assert r.status_code == 302
    routed.refresh_from_db()
    assert routed.interval_minutes == 10
    assert routed.unseal_webhook().startswith("https://hooks.example.com/") and routed.recipients == ["ops@example.com"]
    entry = AuditEvent.objects.filter(object_type="cluster").latest("id")
    assert entry.changes == {"drift watch interval minutes": [0, 10]} and entry.actor_name == "oscar"


def test_a_viewer_can_neither_read_nor_change_the_settings(routed, make_user):
    viewer = _client(make_user, "vera", "viewer")
    assert viewer.get(URL).status_code == 403
    assert viewer.post(URL, {"interval_minutes": "1", "webhook_url": "http://attacker.example.net/"}).status_code == 403
    routed.refresh_from_db()
    assert routed.interval_minutes == 0 and "attacker" not in routed.unseal_webhook()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://files.example.com/hook", "gopher://example.com/",
                                 "javascript:alert(1)", "http://", "//no-scheme.example.com/x"])
def test_an_admin_cannot_save_a_webhook_that_is_not_http_or_https(routed, make_user, url):
    admin = _client(make_user, "alice", "admin")
    r = admin.post(URL, {"interval_minutes": "5", "webhook_url": url, "email_recipients": ""})
    routed.refresh_from_db()
    if url.startswith("//"):  # Django reads it as https: still http(s), still a real host
        assert routed.unseal_webhook() == "https:" + url
        return
    assert r.status_code == 400 and "Enter a valid URL" in r.content.decode()
    assert routed.unseal_webhook().startswith("https://hooks.example.com/") and routed.interval_minutes == 0


@pytest.mark.parametrize("port", ["99999", "0"])
def test_an_admin_cannot_save_a_webhook_whose_port_does_not_exist(routed, make_user, port):
    """Django's URL check takes any five digits: the webhook could never have been sent to it."""
    admin = _client(make_user, "alice", "admin")
    r = admin.post(URL, {"interval_minutes": "5", "webhook_url": f"http://127.0.0.1:{port}/hook",
                         "email_recipients": ""})
    assert r.status_code == 400 and "Enter a valid URL" in r.content.decode()
    routed.refresh_from_db()
    assert routed.unseal_webhook().startswith("https://hooks.example.com/")


def test_an_admin_routes_notifications_and_history_keeps_the_token_out(routed, make_user):
    from regui.audit.models import AuditEvent

    admin = _client(make_user, "alice", "admin")
    page = admin.get(URL).content.decode()
    assert 'name="webhook_url"' in page and 'name="email_recipients"' in page
    r = admin.post(URL, {"interval_minutes": "5", "webhook_url": "http://127.0.0.1:9/new?token=Tok-Secret-55",
                         "email_recipients": "sre@example.com"})
    assert r.status_code == 302
    routed.refresh_from_db()
    assert routed.unseal_webhook() == "http://127.0.0.1:9/new?token=Tok-Secret-55"
    entry = AuditEvent.objects.filter(object_type="cluster").latest("id")
    assert entry.changes["drift watch webhook URL"] == ["https://hooks.example.com", "http://127.0.0.1:9"]
    assert "-Secret-" not in str(entry.changes)


def test_the_webhook_refuses_other_schemes_without_reading_anything(tmp_path, caplog):
    from regui.pushes.drift_webhook import webhook_deliver

    secret = tmp_path / "secret"
    secret.write_text("not for a webhook")
    with caplog.at_level(logging.WARNING):
        for url in (f"file://{secret}", "ftp://127.0.0.1/x", "data:,x", ""):
            assert webhook_deliver(url, {"x": 1}, timeout=1, retries=0) == "not an http or https URL with a host"
    assert "not for a webhook" not in caplog.text and str(secret) not in caplog.text


def test_a_failure_is_logged_without_the_urls_credentials_path_or_query(caplog):
    from regui.pushes.drift_webhook import webhook_deliver

    r = Receiver(fail=5)
    try:
        url = r.url.replace("http://", "http://robot:Pass-Secret-1@") + "/Path-Secret-2?token=Query-Secret-3"
        with caplog.at_level(logging.WARNING, logger="regui.pushes.drift_webhook"):
            assert webhook_deliver(url, {"x": 1}, timeout=2, retries=1) == "answered HTTP 500"
    finally:
        r.close()
    assert len(r.raw) == 2
    assert "answered HTTP 500" in caplog.text and f"127.0.0.1:{r.server.server_port}" in caplog.text
    assert "-Secret-" not in caplog.text and "robot" not in caplog.text


def test_credentials_in_the_url_are_sent_as_basic_auth_not_in_the_request_line():
    from regui.pushes.drift_webhook import webhook_deliver

    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen.append((self.path, self.headers.get("Authorization", "")))
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert webhook_deliver(f"http://robot:p%40ss@127.0.0.1:{server.server_port}/hook?x=1", {}, retries=0) == ""
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [("/hook?x=1", "Basic cm9ib3Q6cEBzcw==")]  # robot:p@ss


def test_a_redirect_is_not_followed():
    from regui.pushes.drift_webhook import webhook_deliver

    elsewhere = Receiver()

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(307)
            self.send_header("Location", elsewhere.url)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert webhook_deliver(f"http://127.0.0.1:{server.server_port}/", {"x": 1}, timeout=2, retries=0) == "answered HTTP 307"
        assert elsewhere.raw == []
    finally:
        server.shutdown()
        server.server_close()
        elsewhere.close()


def test_a_receiver_that_answers_a_byte_at_a_time_is_cut_at_the_deadline():
    from regui.pushes.drift_webhook import webhook_deliver

    stop = threading.Event()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def drip():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            for b in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([b]))
                except OSError:
                    return
                time.sleep(0.1)  # each byte well within the socket timeout

    threading.Thread(target=drip, daemon=True).start()
    try:
        t0 = time.monotonic()
        assert webhook_deliver(f"http://127.0.0.1:{listener.getsockname()[1]}/", {}, timeout=0.5, retries=0) != ""
        assert time.monotonic() - t0 < 3
    finally:
        stop.set()
        listener.close()


def test_a_configured_timeout_and_retries_are_capped(settings, monkeypatch):
    from regui.pushes import drift_webhook

    calls: list[float] = []

    def fail(url, data, timeout):
        calls.append(timeout)
        raise OSError("refused")

    monkeypatch.setattr(drift_webhook, "_post_once", fail)
    monkeypatch.setattr(drift_webhook.time, "sleep", lambda s: None)
    settings.REGUI_DRIFT_WEBHOOK_TIMEOUT, settings.REGUI_DRIFT_WEBHOOK_RETRIES = 3600, 1000
    assert drift_webhook.webhook_deliver("http://127.0.0.1:9/", {}) == "OSError"
    assert calls == [drift_webhook.MAX_TIMEOUT] * 6


def test_an_https_webhook_with_an_untrusted_certificate_gets_nothing(tmp_path, caplog):
    """The JSON goes only to a receiver whose certificate the host trusts (no skip-verify)."""
    import ssl

    from regui.pushes.drift_webhook import webhook_deliver
    from tests.certs import key_and_cert

    key, cert = key_and_cert("127.0.0.1")
    (tmp_path / "k.pem").write_text(key)
    (tmp_path / "c.pem").write_text(cert)
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with caplog.at_level(logging.WARNING, logger="regui.pushes.drift_webhook"):
            problem = webhook_deliver(f"https://127.0.0.1:{server.server_port}/hook?k=Tls-Secret-4", {"x": 1},
                                      timeout=2, retries=0)
    finally:
        server.shutdown()
        server.server_close()
    assert problem != "" and received == []
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text and "-Secret-" not in caplog.text
