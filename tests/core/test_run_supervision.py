"""bin/run keeps a Celery worker running: one that dies is started again; one that cannot start
stops everything with a message instead of leaving a site whose pushes stay queued."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.procs import ROOT, alive, app_env, manage, migrated

pytestmark = pytest.mark.slow  # bin/run: a web server and Celery workers

PING = "from regui.core.tasks import ping; print(ping.delay().get(timeout=60))"
STARTED = re.compile(r"Celery worker started \(process (\d+)\)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(log: Path, what, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text()
        if what(text):
            return text
        time.sleep(0.3)
    raise AssertionError(f"timed out; log:\n{log.read_text()[-3000:]}")


def _start(env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        # Not its own session: only bin/run gets the signal when the test stops it, as under a supervisor.
        return subprocess.Popen([str(ROOT / "bin" / "run")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def test_bin_run_starts_the_worker_again_when_it_dies_and_tasks_are_answered(tmp_path):
    env = app_env(tmp_path, REGUI_LISTEN=f"127.0.0.1:{_free_port()}", REGUI_WORKER_CONCURRENCY="1")
    migrated(env)
    log = tmp_path / "run.log"
    proc = _start(env, log)
    orphans: list[int] = []
    try:
        text = _wait_for(log, lambda t: "ready." in t)
        [first] = map(int, STARTED.findall(text))
        orphans = [int(c) for t in Path(f"/proc/{first}/task").iterdir() for c in (t / "children").read_text().split()]
        os.kill(first, signal.SIGKILL)  # its pool process lives on, orphaned, as after an OOM kill
        text = _wait_for(log, lambda t: t.count("ready.") == 2)
        assert "the Celery worker exited (status 137); starting it again." in text
        second = int(STARTED.findall(text)[-1])
        assert second != first and alive(second)
        r = manage(env, "shell", "-c", PING)
        assert r.stdout.strip().splitlines()[-1] == "pong", r.stderr[-2000:]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        for pid in orphans:  # nothing stops them but this test: left, each one outlived the run
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while alive(second) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not alive(second), "stopping bin/run stops the restarted worker too"


def test_bin_run_stops_with_a_message_when_the_worker_keeps_exiting_at_start(tmp_path):
    port = _free_port()
    env = app_env(tmp_path, REGUI_LISTEN=f"127.0.0.1:{port}", REGUI_WORKER_CONCURRENCY="not-a-number")
    migrated(env)
    log = tmp_path / "run.log"
    proc = _start(env, log)
    try:
        status = proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert status == 1, text[-3000:]
    assert "the Celery worker exited 3 times in a row within 15s of starting" in text
    assert text.count("Celery worker started") == 3
    web = int(re.search(r"web pid (\d+)", text).group(1))
    deadline = time.monotonic() + 20
    while alive(web) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not alive(web), "the web server stops with it"
