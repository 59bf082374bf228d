"""Real processes for tests: manage.py commands and a Celery worker with their own data dir."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_KEY = os.environ["REGUI_ENCRYPTION_KEYS"]
# The Django secret key of the processes tests start (workers, manage.py): what they sign with.
APP_SECRET_KEY = "s" * 50


def app_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGUI_", "DATABASE_URL", "CELERY_"))}
    env.update({
        "REGUI_ENV_FILE": "", "REGUI_DATA_DIR": str(data_dir), "REGUI_SECRET_KEY": APP_SECRET_KEY,
        "REGUI_ENCRYPTION_KEYS": TEST_KEY, "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def migrated(env: dict[str, str]) -> None:
    """The SQLite database of env's data dir, made as `manage.py migrate` makes it: a copy of one the run
    migrated once. A test that is about migrating (or about the files a first run makes) runs migrate
    itself; for the others it was ~3 s of the same work each (a dozen of them)."""
    assert "DATABASE_URL" not in env, "SQLite only"
    template = Path(os.environ["REGUI_DATA_DIR"]) / "migrated-sqlite"
    with open(f"{template}.lock", "a") as lock:  # in case two test processes share a data dir
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (template / "regui.sqlite3").exists():
            made = manage({**env, "REGUI_DATA_DIR": str(template)}, "migrate", "-v0")
            assert made.returncode == 0, made.stderr[-2000:]
    data = Path(env["REGUI_DATA_DIR"])
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(template / "regui.sqlite3", data / "regui.sqlite3")
    os.chmod(data / "regui.sqlite3", 0o600)


def alive(pid: int) -> bool:
    """The process runs (a zombie, exited but not reaped yet, does not)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return "zombie" not in f.read().lower()
    except FileNotFoundError:
        return False


QUIET = ("--without-gossip", "--without-mingle", "--without-heartbeat")
AS_BIN_RUN = ("--beat",)  # bin/run's flags: gossip, mingle and heartbeats on, beat inside


@contextmanager
def celery_worker(env: dict[str, str], log: Path, concurrency: int = 2, flags: tuple[str, ...] = QUIET,
                  warm_stop: bool = True):
    """A real `celery worker` process; stopped (warm, then hard) when the block ends, or killed at once
    with warm_stop=False: a warm stop takes Celery 2-5 s (its pool's threads are joined one after the
    other, each waking from its own sleep), which a test that looks no further at the worker only waits out."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "regui", "worker", "--loglevel=INFO",
             f"--concurrency={concurrency}", *flags],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):  # a test may have killed it already
            if warm_stop:
                # The main process alone, as Celery asks: a TERM to the whole group also killed pool processes
                # mid-call, and the main process then waited forever on a queue lock one of them held
                # (seen here: the clean-stop test took 20 s more, the time the hard stop below waits).
                os.kill(proc.pid, signal.SIGTERM)
            else:
                os.killpg(proc.pid, signal.SIGKILL)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
