"""REGUI_DATA_DIR is private to regui's user: the folder 0700 and what regui writes there 0600, on a
first run and on an upgrade that finds older files readable by everyone (collected static files aside)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
KEY = Fernet.generate_key().decode()


def manage(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGUI_", "DATABASE_URL", "CELERY_"))}
    env.update({"REGUI_ENV_FILE": "", "REGUI_DATA_DIR": str(data_dir), "REGUI_SECRET_KEY": "k" * 50,
                "REGUI_ENCRYPTION_KEYS": KEY})
    # Started the way a shell with the usual umask starts it: regui must not rely on the caller's.
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, preexec_fn=lambda: os.umask(0o022))


def modes(data_dir: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(data_dir.stat().st_mode)}
    for path in data_dir.rglob("*"):
        rel = str(path.relative_to(data_dir))
        if not rel.startswith("staticfiles"):
            found[rel] = stat.S_IMODE(path.lstat().st_mode)
    return found


def readable_by_others(data_dir: Path) -> dict[str, str]:
    return {rel: oct(mode) for rel, mode in modes(data_dir).items() if mode & 0o077}


@pytest.mark.slow  # manage.py subprocesses
def test_a_first_run_makes_the_folder_and_everything_in_it_private(tmp_path):
    data = tmp_path / "fresh" / "data"
    r = manage(data, "migrate", "-v0")
    assert r.returncode == 0, r.stderr
    # A database write in WAL mode leaves -wal and -shm beside the database.
    assert manage(data, "shell", "-c", "from django.contrib.auth.models import Group; "
                                       "Group.objects.create(name='x')").returncode == 0
    found = modes(data)
    assert "regui.sqlite3" in found and found["."] == 0o700
    assert readable_by_others(data) == {}


@pytest.mark.slow
def test_an_upgrade_fixes_files_an_older_version_left_readable(tmp_path):
    data = tmp_path / "data"
    assert manage(data, "migrate", "-v0").returncode == 0
    old = [data / "regui.sqlite3-wal", data / "regui.sqlite3-shm", data / "celerybeat-schedule",
           data / "celery" / "queue" / "0001.celery.msg", data / "celery" / "processed" / "x.msg",
           data / "regui.env"]
    for path in old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    for path in [data, *data.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    r = manage(data, "check")
    assert r.returncode == 0, r.stderr
    assert readable_by_others(data) == {}
    assert modes(data)["celery/queue/0001.celery.msg"] == 0o600 and modes(data)["celery/queue"] == 0o700


def test_what_could_not_be_made_private_is_reported_by_the_check(settings, tmp_path):
    from regui.core.checks import check_data_dir

    settings.DATA_DIR = tmp_path
    tmp_path.chmod(0o700)
    assert check_data_dir(None) == []
    settings.REGUI_DATA_DIR_UNFIXED = [str(tmp_path / "foreign.txt")]
    (warning,) = check_data_dir(None)
    assert warning.id == "regui.W001" and "foreign.txt" in warning.msg
