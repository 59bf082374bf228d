"""Boot Django on a throw-away SQLite database for a benchmark run."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup(database_url: str = "", broker_url: str = "") -> Path:
    """Django on a throw-away SQLite database and the filesystem broker; or, given a PostgreSQL
    server URL, on a database created for this run (dropped by `teardown`) and the given broker."""
    sys.path.insert(0, str(ROOT))
    data = Path(tempfile.mkdtemp(prefix="regui-bench-"))
    os.environ.update({"REGUI_ENV_FILE": "", "REGUI_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "regui.settings"})
    os.environ.setdefault("REGUI_SECRET_KEY", "bench-" + "x" * 40)
    if "REGUI_ENCRYPTION_KEYS" not in os.environ:
        from cryptography.fernet import Fernet

        os.environ["REGUI_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = _create_database(database_url)
    if broker_url:
        os.environ["CELERY_BROKER_URL"] = broker_url
        os.environ["REGUI_CELERY_QUEUE"] = f"regui-bench-{os.getpid()}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data


_created: list[tuple[str, str]] = []


def _create_database(server_url: str) -> str:
    import uuid

    import psycopg

    name = f"regui_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _created.append((server_url, name))
    return server_url.rsplit("/", 1)[0] + "/" + name


def teardown() -> None:
    """Drop the databases `setup` created (after Django's own connections are closed)."""
    from django.db import connections

    connections.close_all()
    import psycopg

    while _created:
        server_url, name = _created.pop()
        with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def harness_main(script: str, args, body: Callable[[Path, ExitStack], None]) -> int:
    """The frame of a benchmark on harness nodes: root (the nodes are network namespaces), SIGTERM
    taken as Ctrl-C, Django on a throw-away database (PostgreSQL + Redis with --production: servers
    from REGUI_BENCH_DATABASE_URL / REGUI_BENCH_BROKER_URL, or this machine's), and everything
    cleaned up however `body(data dir, exit stack)` ends (--keep keeps the data dir). The exit status."""
    if os.geteuid() != 0:
        print(f"{script} needs root (harness nodes are network namespaces)", file=sys.stderr)
        return 1

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    if args.production:
        data = setup(os.environ.get("REGUI_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                     os.environ.get("REGUI_BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"))
    else:
        data = setup()
    with ExitStack() as stack:
        stack.callback(teardown)
        if args.keep:
            print(f"data dir kept: {data}")
        else:
            stack.callback(shutil.rmtree, data, True)
        try:
            body(data, stack)
        except KeyboardInterrupt:
            print("\ninterrupted; cleaning up", file=sys.stderr)
            return 130
        except Exception:
            traceback.print_exc()
            return 1
    return 0


def logged_in(role: str):
    """(user, client): the user "bench" with `role`, and a test client logged in as it."""
    from django.contrib.auth.models import User
    from django.test import Client

    from regui.core.services import user_set_role

    user, _ = User.objects.get_or_create(username="bench")
    user_set_role(user=user, role=role)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return user, client


def best(fn, runs: int) -> tuple[float, float]:
    """(fastest, median) seconds of `runs` calls."""
    import statistics
    import time

    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)
