"""The drift watch's webhook: one JSON POST, bounded in every way, and logged without its secrets.

A webhook URL often carries a token (in its user part, path or query), so logs and pages name only
its scheme, host and port (`webhook_shown`). Only http and https are spoken; redirects are not
followed (a POST must not be re-sent elsewhere); each attempt has a total deadline on top of the
socket timeout, so a receiver that answers a byte at a time cannot hold the watch.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import logging
import socket
import threading
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings

log = logging.getLogger(__name__)
SCHEMES = ("http", "https")
MAX_TIMEOUT = 30.0


def webhook_shown(url: str) -> str:
    """scheme://host[:port] of a webhook URL: what a page or a log may say of it."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        host = parts.hostname or ""
    except ValueError:
        return "(an invalid URL)"
    if parts.scheme not in SCHEMES or not host:
        return "(an invalid URL)"
    return f"{parts.scheme}://{host}{port}"


def _post_once(url: str, data: bytes, timeout: float) -> int:
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname or "", parts.port, timeout=timeout)
    headers = {"Content-Type": "application/json", "User-Agent": "regui"}
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()

    def cut() -> None:  # the deadline: whatever the receiver is doing, the socket is closed under it
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    watchdog = threading.Timer(timeout * 2, cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), data, headers)
        resp = conn.getresponse()
        return resp.status
    finally:
        watchdog.cancel()
        conn.close()


def webhook_deliver(url: str, body: dict[str, Any], *, timeout: float | None = None,
                    retries: int | None = None) -> str:
    """POST the body as JSON, retried a bounded number of times: "" once a 2xx came back, else what
    went wrong at the last attempt in words a page may show (an HTTP status or an error's kind: no
    host, no part of the URL)."""
    shown = webhook_shown(url)
    if shown == "(an invalid URL)":
        log.warning("drift webhook not sent: only http and https URLs with a host are allowed")
        return "not an http or https URL with a host"
    timeout = min(settings.REGUI_DRIFT_WEBHOOK_TIMEOUT if timeout is None else timeout, MAX_TIMEOUT)
    attempts = 1 + max(0, min(settings.REGUI_DRIFT_WEBHOOK_RETRIES if retries is None else retries, 5))
    data = json.dumps(body).encode()
    said = ""
    for attempt in range(attempts):
        try:
            status = _post_once(url, data, timeout)
            if 200 <= status < 300:
                return ""
            problem = said = f"answered HTTP {status}"
        except (OSError, http.client.HTTPException) as exc:
            # The exception's text names no URL (the connection knows only host and port).
            problem, said = f"{type(exc).__name__}: {exc}", type(exc).__name__
        log.warning("drift webhook to %s failed (attempt %d of %d): %s", shown, attempt + 1, attempts, problem)
        if attempt + 1 < attempts:
            time.sleep(min(2 ** attempt * 0.5, 5))
    return said
