"""Pickup latency and robustness of the embedded Celery broker candidates, in the same run, real workers.

    .venv/bin/python bench/broker.py [--tasks 2000] [--latency 100] [--only NAME ...]

Each candidate gets its own data dir and SQLite database and a real `celery worker --beat` started
as bin/run starts it (concurrency 2, the machine's cores):
  kombu-fs     kombu 5.7's filesystem transport, as regui used it until issue 14 (polling 10 ms)
  regui-fs     regui/core/broker.py: atomic publish, claim by rename, ack/requeue (the default now)
  regui-fs-nosync  the same without fsync: what the durability of a published task costs
  sqla-sqlite  kombu's SQLAlchemy transport on a SQLite file beside the database (polling 10 ms)
  redis        Redis (REGUI_BENCH_BROKER_URL, default redis://127.0.0.1:6379/15), for reference

Rows:
  pickup   publish -> the worker's "received" log line, over --latency pings sent 50 ms apart (ms)
  paced    the issue's pattern: 400 pings sent every 20 ms
  flood    --tasks pings from 2 senders at once, as fast as they can publish
For paced and flood: tasks lost (no result within the deadline), whether the worker is still alive,
tasks/s from the first publish to the last result. Candidates whose package or server is missing
are listed as skipped. Exits 0; 1 when the bench itself broke.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = ("kombu-fs", "regui-fs", "regui-fs-nosync", "sqla-sqlite", "redis")

SENDER = r"""
import json, sys, time
import django
django.setup()
from regui.core.tasks import ping
n, gap, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
sent, errors = [], []
for _ in range(n):
    t = time.time()
    try:
        sent.append((ping.apply_async().id, t))
    except Exception as exc:  # a broker that refuses a publish is a result too
        errors.append(repr(exc))
    if gap:
        time.sleep(gap)
json.dump({"sent": sent, "errors": errors}, open(out, "w"))
"""

SQLA_TRANSPORT = """
from kombu.transport import sqlalchemy


class Transport(sqlalchemy.Transport):
    polling_interval = 0.01
"""

RECEIVED = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}): INFO/MainProcess\] Task regui\.ping\[([0-9a-f-]+)\] received",
                      re.M)


@dataclass
class Run:
    sent: int = 0
    send_errors: int = 0
    done: int = 0
    seconds: float = 0.0
    alive: bool = True
    fatal: str = ""

    @property
    def lost(self) -> int:
        return self.sent - self.done


@dataclass
class Result:
    name: str
    skipped: str = ""
    pickup_ms: list[float] = field(default_factory=list)
    runs: dict[str, Run] = field(default_factory=dict)


def settings_module(name: str, data: Path, redis_url: str) -> tuple[str, dict[str, str]]:
    """A settings module that is regui's own plus the candidate's broker; and its environment."""
    lines = ["from regui.settings import *  # noqa"]
    env: dict[str, str] = {}
    if name == "kombu-fs":
        lines.append("CELERY_BROKER_TRANSPORT = 'filesystem'")
    elif name == "regui-fs-nosync":
        lines.append("CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, 'fsync': False}")
    elif name == "sqla-sqlite":
        # kombu hands every transport option to create_engine, which refuses polling_interval: the
        # 10 ms poll the filesystem candidates get is set on a subclass instead.
        (data / "bench_sqla.py").write_text(SQLA_TRANSPORT)
        env["CELERY_BROKER_URL"] = f"sqlite:///{data / 'broker.sqlite3'}"
        lines.append("CELERY_BROKER_TRANSPORT = 'bench_sqla:Transport'")
    elif name == "redis":
        env["CELERY_BROKER_URL"] = redis_url
        env["REGUI_CELERY_QUEUE"] = f"regui-bench-{uuid.uuid4().hex[:8]}"
    (data / "bench_settings.py").write_text("\n".join(lines) + "\n")
    return "bench_settings", env


def candidate_env(name: str, data: Path, redis_url: str) -> dict[str, str]:
    module, extra = settings_module(name, data, redis_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGUI_", "DATABASE_URL", "CELERY_"))}
    env.update({"REGUI_ENV_FILE": "", "REGUI_DATA_DIR": str(data), "REGUI_SECRET_KEY": "bench-" + "x" * 44,
                "REGUI_ENCRYPTION_KEYS": _fernet_key(), "PYTHONUNBUFFERED": "1",
                "DJANGO_SETTINGS_MODULE": module, "PYTHONPATH": f"{data}:{ROOT}"})
    env.update(extra)
    return env


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def missing(name: str, redis_url: str) -> str:
    if name == "sqla-sqlite":
        try:
            import sqlalchemy  # noqa: F401
        except ImportError:
            return "SQLAlchemy is not installed (requirements-dev.txt)"
    if name == "redis":
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            return f"no Redis at {redis_url}: {exc}"
    return ""


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "w") as out:
            # As bin/run starts it (beat included), with the machine's two cores.
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "regui", "worker", "--beat", "--loglevel=INFO",
                 "--concurrency=2"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def send(env: dict[str, str], data: Path, n: int, gap: float, senders: int = 1) -> tuple[list, int]:
    """`senders` processes publish `n` pings between them. Returns ([(task id, time sent)], errors)."""
    outs = [data / f"sent-{uuid.uuid4().hex[:6]}.json" for _ in range(senders)]
    counts = [n // senders + (1 if i < n % senders else 0) for i in range(senders)]
    procs = [subprocess.Popen([sys.executable, "-c", SENDER, str(c), str(gap), str(o)], cwd=ROOT, env=env,
                              stderr=subprocess.PIPE, text=True) for c, o in zip(counts, outs, strict=True)]
    sent, errors = [], 0
    for p, out in zip(procs, outs, strict=True):
        _, err = p.communicate(timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"a sender failed:\n{err[-2000:]}")
        got = json.loads(out.read_text())
        sent += got["sent"]
        errors += len(got["errors"])
    return sent, errors


def results_done(db: Path, ids: set[str]) -> tuple[int, float]:
    """How many of `ids` have a successful result, and when the last one was written (epoch)."""
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute("SELECT task_id, date_done FROM django_celery_results_taskresult "
                            "WHERE status = 'SUCCESS'").fetchall()
    done = [d for t, d in rows if t in ids]
    last = max((_epoch_utc(d) for d in done), default=0.0)
    return len(done), last


def _epoch_utc(text: str) -> float:
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def wait_for(worker: Worker, db: Path, sent: list, errors: int) -> Run:
    ids = {i for i, _ in sent}
    run = Run(sent=len(ids), send_errors=errors)
    deadline = time.monotonic() + 30 + len(ids) / 20
    dead_since = None
    while time.monotonic() < deadline:
        run.done, last = results_done(db, ids)
        if run.done == len(ids):
            break
        if not worker.alive:
            dead_since = dead_since or time.monotonic()
            if time.monotonic() - dead_since > 3:  # results already written have landed by now
                break
        time.sleep(0.25)
    run.done, last = results_done(db, ids)
    run.alive = worker.alive
    run.seconds = (last - min(t for _, t in sent)) if sent and last else 0.0
    fatal = re.search(r"Unrecoverable error: (.*)", worker.log.read_text())
    run.fatal = fatal.group(1)[:90] if fatal else ""
    return run


def pickup(log: Path, sent: list) -> list[float]:
    when = {}
    for stamp, ms, task_id in RECEIVED.findall(log.read_text()):
        when[task_id] = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) + int(ms) / 1000
    return [max(0.0, (when[i] - t) * 1000) for i, t in sent if i in when]


def bench_candidate(name: str, args, redis_url: str) -> Result:
    result = Result(name)
    result.skipped = missing(name, redis_url)
    if result.skipped:
        return result
    data = Path(tempfile.mkdtemp(prefix=f"regui-bench-broker-{name}-"))
    env = candidate_env(name, data, redis_url)
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
    if migrated.returncode:
        raise RuntimeError(migrated.stderr[-2000:])
    db = data / "regui.sqlite3"
    phases = [("paced", 400, 0.02, 1), ("flood", args.tasks, 0.0, 2)]
    worker = Worker(env, data / "worker.log")
    try:
        sent, _ = send(env, data, args.latency, 0.05)
        wait_for(worker, db, sent, 0)
        result.pickup_ms = pickup(worker.log, sent)
        for phase, n, gap, senders in phases:
            if not worker.alive:
                # The point: a dead worker takes every later task with it.
                worker.stop()
                worker = Worker(env, data / f"worker-{phase}.log")
            sent, errors = send(env, data, n, gap, senders)
            result.runs[phase] = wait_for(worker, db, sent, errors)
    finally:
        worker.stop()
    if not args.keep:
        subprocess.run(["rm", "-rf", str(data)])
    return result


def report(results: list[Result]) -> None:
    print(f"\n{'candidate':<16} {'pickup p50':>10} {'p95':>7} {'max':>7} | "
          f"{'phase':<6} {'sent':>5} {'lost':>5} {'refused':>7} {'alive':>5} {'tasks/s':>7}  fatal")
    for r in results:
        if r.skipped:
            print(f"{r.name:<16} skipped: {r.skipped}")
            continue
        p = sorted(r.pickup_ms)
        lat = (f"{statistics.median(p):>8.1f}ms {p[int(len(p) * 0.95) - 1]:>5.1f}ms {p[-1]:>5.1f}ms" if p
               else f"{'-':>10} {'-':>7} {'-':>7}")
        for i, (phase, run) in enumerate(r.runs.items()):
            head = f"{r.name:<16} {lat}" if i == 0 else f"{'':<16} {'':>10} {'':>7} {'':>7}"
            rate = run.done / run.seconds if run.seconds else 0.0
            print(f"{head} | {phase:<6} {run.sent:>5} {run.lost:>5} {run.send_errors:>7} "
                  f"{'yes' if run.alive else 'NO':>5} {rate:>7.0f}  {run.fatal}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=2000, help="pings in the flood phase")
    ap.add_argument("--latency", type=int, default=100, help="pings for the pickup latency")
    ap.add_argument("--only", nargs="*", choices=CANDIDATES, default=list(CANDIDATES))
    ap.add_argument("--keep", action="store_true", help="keep each candidate's data dir and worker log")
    args = ap.parse_args()
    redis_url = os.environ.get("REGUI_BENCH_BROKER_URL", "redis://127.0.0.1:6379/15")
    results = []
    try:
        for name in args.only:
            print(f"[{time.strftime('%H:%M:%S')}] {name} ...", flush=True)
            results.append(bench_candidate(name, args, redis_url))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        print(f"bench broke: {exc}", file=sys.stderr)
        report(results)
        return 1
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
