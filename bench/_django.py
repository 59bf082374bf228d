"""Boot Django on a throw-away SQLite database for a benchmark run."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup() -> Path:
    sys.path.insert(0, str(ROOT))
    data = Path(tempfile.mkdtemp(prefix="regui-bench-"))
    os.environ.update({"REGUI_ENV_FILE": "", "REGUI_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "regui.settings"})
    os.environ.setdefault("REGUI_SECRET_KEY", "bench-" + "x" * 40)
    if "REGUI_ENCRYPTION_KEYS" not in os.environ:
        from cryptography.fernet import Fernet

        os.environ["REGUI_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data


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
