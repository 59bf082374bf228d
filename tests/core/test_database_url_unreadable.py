"""A DATABASE_URL whose password holds a character a URL gives another meaning (`/`, `?`, `[`: written
unescaped) cannot be read: that stops start-up in one sentence naming the variable and how to write it,
never the traceback Python's URL parser raised, which quoted the password's first characters as a port
('Port could not be cast to integer value as 'hunter'').

A `#` written unescaped starts the URL's fragment, which nothing reads: in the database name, the query or a
SQLite file's name the rest was dropped without a word (`/re#gui` opened database `re`, `/srv/a#b.sqlite3` the
file `/srv/a`: another database, or a new empty one). In the password django-environ 0.14 reads it whole,
by a fallback (a URL whose path comes out empty is parsed again escaped) that no rule of URLs promises: a `#`
is refused wherever it stands, with how to write it (%23)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from regui.core.config import database_url

PASSWORD = "hunter/2?pw[x"


@pytest.mark.parametrize("url", [
    f"postgres://regui:{PASSWORD}@db:5432/regui",
    "postgres://regui:hunter2?pw@db:5432/regui",
    "postgres://regui:[hunter2pw@db:5432/regui",
    "postgres://regui:hunter2pw@db:54x32/regui",
], ids=["a slash", "a question mark", "a bracket", "a port that is no number"])
def test_a_database_url_that_cannot_be_read_says_so_without_its_password(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured) as caught:
        database_url("sqlite:///x.sqlite3")
    said = str(caught.value)
    assert said.startswith("DATABASE_URL cannot be read as a URL") and "percent-encode" in said
    for part in ("hunter", "pw", "2?", "54x32"):
        assert part not in said


@pytest.mark.parametrize("url", [
    "postgres://regui:hunter#2pw@db:5432/regui",
    "postgres://regui:1234#hunter2pw@db:5432/regui",
    "postgres://regui:hunter2pw@db:5432/regui#x",
    "postgres://regui:hunter2pw@db:5432/re#gui",
    "postgres://regui:hunter2pw@db:5432/regui?sslmode=require#pw",
    "sqlite:////var/lib/regui/hunter#2pw.sqlite3",
], ids=["in the password", "after a password of digits", "after the name", "in the name", "in the query",
        "in a file name"])
def test_a_database_url_with_a_hash_is_refused_not_read_short(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured) as caught:
        database_url("sqlite:///x.sqlite3")
    said = str(caught.value)
    assert said.startswith("DATABASE_URL cannot be read as a URL") and "# as %23" in said
    for part in ("hunter", "pw", "1234", "other"):
        assert part not in said


def test_a_hash_written_percent_encoded_is_the_password_s(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://regui:hunter%232pw@db:5432/regui")
    config = database_url("sqlite:///x.sqlite3")
    assert (config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) == ("hunter#2pw", "db", 5432, "regui")
