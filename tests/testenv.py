"""Loaded with `-p tests.testenv` before Django: fixed test keys, no local env file."""

import os
import tempfile

os.environ["REGUI_ENV_FILE"] = ""
os.environ.setdefault("REGUI_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("REGUI_ENCRYPTION_KEYS", "Ir3ebr4u4C0bI8cKJnlexuI35Bw15DcV_CUMjPVjwQ4=")
# A fresh data dir per run: the SQLite test database and the filesystem broker's queue live there.
# A queue of its own, so a run on a shared Redis never takes (or leaves) another run's tasks.
os.environ.setdefault("REGUI_CELERY_QUEUE", f"regui-test-{os.getpid()}")
os.environ.setdefault("REGUI_DATA_DIR", tempfile.mkdtemp(prefix="regui-test-"))
# Under pytest-xdist (-n) each worker process inherits the controller's environment, so the two
# above; a worker is a run of its own and gets its own of both, named after it (gw0, gw1...): the
# SQLite test database's folder, the filesystem broker's queue and the jump hosts' lock files are not
# shared, nor is a Redis queue: the queue is all a run keeps in Redis, so the workers share the run's
# Redis database as concurrent runs do. pytest-django gives each worker its own test database
# (name_gw0, name_gw1).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if WORKER:
    os.environ["REGUI_CELERY_QUEUE"] += f"-{WORKER}"
    os.environ["REGUI_DATA_DIR"] = os.path.join(os.environ["REGUI_DATA_DIR"], WORKER)
    os.makedirs(os.environ["REGUI_DATA_DIR"], mode=0o700, exist_ok=True)

if os.environ["REGUI_DATA_DIR"].startswith(tempfile.gettempdir() + "/regui-test-"):
    import atexit
    import shutil

    atexit.register(shutil.rmtree, os.environ["REGUI_DATA_DIR"], True)


def pytest_configure(config):
    # regui's settings (loaded by pytest-django by now) set the process umask to 077, right for
    # regui's own processes, which the tests start with it. This process also builds stand-ins for
    # other machines (harness nodes whose /etc non-root users read, fake nodes): those get the usual one.
    os.umask(0o022)
