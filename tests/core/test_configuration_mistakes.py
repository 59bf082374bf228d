"""An operator's configuration mistakes stop regui with one sentence that names the variable (never its
secret value) and a non-zero status, never a traceback: in the settings' reading (fast) and for what an
operator starts (slow: manage.py, gunicorn and the Celery worker, as real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from regui.core.config import database_url, env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_a_number_that_is_no_number_is_named_with_what_it_must_be(monkeypatch):
    monkeypatch.setenv("REGUI_WORKER_BEAT", "5s")
    with pytest.raises(ImproperlyConfigured, match=r"^REGUI_WORKER_BEAT must be a number, not '5s'\.$"):
        env.float("REGUI_WORKER_BEAT", default=5.0)
    monkeypatch.setenv("REGUI_PUSH_CHUNK", "fifty")
    with pytest.raises(ImproperlyConfigured, match=r"^REGUI_PUSH_CHUNK must be a whole number, not 'fifty'\.$"):
        env.int("REGUI_PUSH_CHUNK", default=50)


def test_a_switch_spelled_wrong_is_refused_not_taken_as_off(monkeypatch):
    monkeypatch.setenv("REGUI_SSL_REDIRECT", "ture")
    with pytest.raises(ImproperlyConfigured, match=r"^REGUI_SSL_REDIRECT must be true or false"):
        env.bool("REGUI_SSL_REDIRECT", default=False)
    for word, value in (("yes", True), ("On", True), ("1", True), ("false", False), ("off", False), ("0", False),
                        ("no", False), ("", False)):
        monkeypatch.setenv("REGUI_SSL_REDIRECT", word)
        assert env.bool("REGUI_SSL_REDIRECT", default=True) is value


def test_a_file_named_by_a_file_variable_that_cannot_be_read_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match=r"^DATABASE_URL_FILE=.*missing cannot be read"):
        database_url("sqlite:///x.sqlite3")


def test_a_database_url_of_an_unknown_scheme_names_the_scheme_not_the_password(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgress://regui:hunter2-pw@db:5432/regui")
    with pytest.raises(ImproperlyConfigured) as caught:
        database_url("sqlite:///x.sqlite3")
    assert str(caught.value).startswith("DATABASE_URL: 'postgress' is no database scheme regui knows")
    assert "hunter2-pw" not in str(caught.value) and "\n" not in str(caught.value)
    monkeypatch.setenv("DATABASE_URL", "postgres://regui@db:5432/regui")
    assert database_url("sqlite:///x.sqlite3")["ENGINE"] == "django.db.backends.postgresql"


def run(args: list[str], timeout: float = 60, **env_vars: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REGUI_", "DATABASE_URL", "CELERY_"))}
    base.update({"REGUI_ENV_FILE": "", "REGUI_SECRET_KEY": "k" * 50,
                 "REGUI_ENCRYPTION_KEYS": Fernet.generate_key().decode()})
    base.update(env_vars)
    return subprocess.run(args, cwd=ROOT, env=base, capture_output=True, text=True, timeout=timeout)


def one_sentence(r: subprocess.CompletedProcess, *words: str) -> bool:
    said = [line for line in r.stderr.splitlines() if line.startswith("regui: ")]
    return (r.returncode != 0 and "Traceback" not in r.stderr and len(said) == 1
            and all(w in said[0] for w in words))


MISTAKES = [
    ({"REGUI_WORKER_BEAT": "five"}, ["REGUI_WORKER_BEAT must be a number"]),
    ({"REGUI_DEBUG": "maybe"}, ["REGUI_DEBUG must be true or false"]),
    ({"DATABASE_URL": "postgress://u:pw-77x@h/db"}, ["DATABASE_URL", "'postgress'"]),
    ({"REGUI_ALLOWED_HOSTS": ""}, ["REGUI_ALLOWED_HOSTS is empty"]),
    ({"REGUI_SECRET_KEY_FILE": "/nonexistent/secret"}, ["REGUI_SECRET_KEY_FILE=/nonexistent/secret cannot be read"]),
]


@pytest.mark.slow
@pytest.mark.parametrize("mistake, words", MISTAKES)
def test_manage_py_says_the_mistake_in_one_line(tmp_path, mistake, words):
    r = run([sys.executable, "manage.py", "check"], REGUI_DATA_DIR=str(tmp_path), **mistake)
    assert one_sentence(r, *words), r.stderr
    assert "pw-77x" not in r.stderr


@pytest.mark.slow
def test_manage_py_says_an_unreachable_database_in_one_line(tmp_path):
    r = run([sys.executable, "manage.py", "migrate"], REGUI_DATA_DIR=str(tmp_path),
            DATABASE_URL="postgres://regui:pw-88y@127.0.0.1:9/regui")
    assert one_sentence(r, "cannot use the database", "127.0.0.1"), r.stderr
    assert "pw-88y" not in r.stderr


@pytest.mark.slow
def test_gunicorn_says_the_mistake_in_one_line_and_stops(tmp_path):
    r = run([str(BIN / "gunicorn"), "regui.wsgi:application", "--bind", "127.0.0.1:0", "--no-control-socket"],
            REGUI_DATA_DIR=str(tmp_path), REGUI_ENCRYPTION_KEYS="not-a-key")
    assert one_sentence(r, "REGUI_ENCRYPTION_KEYS", "not a valid Fernet key"), r.stderr


@pytest.mark.slow
def test_the_celery_worker_says_the_mistake_in_one_line_and_stops(tmp_path):
    r = run([str(BIN / "celery"), "-A", "regui", "worker"], REGUI_DATA_DIR=str(tmp_path),
            REGUI_SECRET_KEY="")
    assert one_sentence(r, "REGUI_SECRET_KEY is not set"), r.stderr
