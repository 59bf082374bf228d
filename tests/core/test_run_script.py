"""`make run`'s last step, bin/run: a web server and a Celery worker that serve a logged-in user."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.procs import ROOT, alive, app_env, manage, migrated

pytestmark = pytest.mark.slow  # bin/run: gunicorn and a Celery worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# One run of bin/run from start to stop: these were two tests, each starting bin/run (a web server and a
# worker, ~5 s) for the same run; one looked at what it serves, the other at how it stops.
def test_bin_run_serves_the_site_with_a_worker_and_stopping_it_stops_both(tmp_path):
    port = _free_port()
    home = tmp_path / "home"
    home.mkdir()
    env = app_env(tmp_path, REGUI_LISTEN=f"127.0.0.1:{port}", REGUI_WORKER_CONCURRENCY="1", HOME=str(home),
                  REGUI_LOG_LEVEL="DEBUG",
                  PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}")
    migrated(env)
    made = manage(env, "ensure_admin")
    assert "password:" in made.stdout, "a generated admin password is printed once"
    again = manage(env, "ensure_admin")
    assert "exists" in again.stdout and "password:" not in again.stdout

    log = tmp_path / "run.log"
    with open(log, "w") as out:
        # A process group of its own, for the clean-up below; the stop signal goes to bin/run alone, as
        # when `timeout` or a supervisor stops it.
        proc = subprocess.Popen([str(ROOT / "bin" / "run")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        body = ""
        while time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2).read().decode()
                if "ready." in log.read_text():
                    break
            except OSError:
                pass
            time.sleep(0.1)
        assert "Log in to regui" in body, log.read_text()[-2000:]
        server = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5).headers.get("Server", "")
        assert server.startswith("gunicorn"), "served by gunicorn (request timeouts), not runserver"
        assert "ready." in log.read_text(), "the Celery worker started beside the web server"
        assert "DEBUG/MainProcess" in log.read_text(), "the worker logs at REGUI_LOG_LEVEL"
        # One per user, shared by every gunicorn of that user: a second regui would take it over.
        assert not (home / ".gunicorn").exists(), "gunicorn made its per-user control socket"
        pids = [int(p) for p in re.findall(r"pid (\d+)", log.read_text())]
        assert len(pids) == 2, log.read_text()[-1500:]
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 20
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in pids if alive(p)], "children left running"
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever a failing run left behind
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


CHECK_LOGIN = ("from django.contrib.auth import authenticate; from regui.core.roles import has_role; "
               "u = authenticate(username='{user}', password='{pw}'); print('login', bool(u) and has_role(u, 'admin'))")


def test_ensure_admin_takes_the_password_from_the_environment_or_a_file(tmp_path):
    env = app_env(tmp_path, REGUI_ADMIN_PASSWORD="from-env-Pw-5521")
    migrated(env)
    made = manage(env, "ensure_admin")
    assert made.returncode == 0 and "from REGUI_ADMIN_PASSWORD" in made.stdout
    assert "from-env-Pw-5521" not in made.stdout + made.stderr
    assert "login True" in manage(env, "shell", "-c", CHECK_LOGIN.format(user="admin", pw="from-env-Pw-5521")).stdout

    pw_file = tmp_path / "admin-pw"
    pw_file.write_text("from-file-Pw-7730\n")
    env2 = app_env(tmp_path, REGUI_ADMIN_PASSWORD_FILE=str(pw_file), REGUI_ADMIN_USER="root-admin")
    assert manage(env2, "ensure_admin").returncode == 0
    assert "login True" in manage(env2, "shell", "-c",
                                  CHECK_LOGIN.format(user="root-admin", pw="from-file-Pw-7730")).stdout
