"""The data folder (REGUI_DATA_DIR) holds the SQLite database, the embedded Celery broker's queue,
the beat schedule and the env file with the keys: nobody but regui's own user may read any of it.

Called from settings, which every entry point imports (web, worker, beat, manage.py): the process
umask becomes 077, so whatever regui writes from then on is 0600 (SQLite gives its -wal and -shm
files the database's mode, shelve and the broker use the umask), and what an older version left
readable is fixed once at start-up. Imports nothing from Django: settings runs it before setup.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
# collectstatic's output is public by nature (whitenoise serves it to anyone who can log in).
NOT_PRIVATE = ("staticfiles",)


def secure_data_dir(path: Path) -> list[str]:
    """Make `path` 0700 and everything regui keeps in it 0600 (folders 0700); set the umask.
    Returns what could not be fixed (files of another owner), for the start-up check to report."""
    os.umask(PRIVATE_UMASK)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    unfixed = []
    if not _restrict(path, 0o700):
        unfixed.append(str(path))
    for root, dirs, files in os.walk(path):
        if Path(root) == path:
            dirs[:] = [d for d in dirs if d not in NOT_PRIVATE]
        for name in dirs:
            if not _restrict(Path(root) / name, 0o700):
                unfixed.append(os.path.join(root, name))
        for name in files:
            if not _restrict(Path(root) / name, 0o600):
                unfixed.append(os.path.join(root, name))
    return unfixed


def _restrict(path: Path, mode: int) -> bool:
    """Take group and other bits away (an owner bit is never added). False if it stays readable."""
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            return True  # not followed: the folder is private, so the link was put there by regui's user
        if stat.S_IMODE(st.st_mode) & 0o077:
            path.chmod(stat.S_IMODE(st.st_mode) & mode)
    except FileNotFoundError:
        return True  # removed meanwhile (a message taken by a worker)
    except PermissionError:
        return False
    return True


def readable_by_others(path: Path) -> bool:
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    except OSError:
        return False
