"""A DATABASE_URL whose password holds a character a URL gives another meaning (`/`, `?`, `[`: written
unescaped) cannot be read: that stops start-up in one sentence naming the variable and how to write it,
never the traceback Python's URL parser raised, which quoted the password's first characters as a port
('Port could not be cast to integer value as 'hunter'')."""

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
