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

if os.environ["REGUI_DATA_DIR"].startswith(tempfile.gettempdir() + "/regui-test-"):
    import atexit
    import shutil

    atexit.register(shutil.rmtree, os.environ["REGUI_DATA_DIR"], True)


def pytest_configure(config):
    # regui's settings (loaded by pytest-django by now) set the process umask to 077, right for
    # regui's own processes, which the tests start with it. This process also builds stand-ins for
    # other machines (harness nodes whose /etc non-root users read, fake nodes): those get the usual one.
    os.umask(0o022)
