"""Reading configuration from the environment: django-environ's FileAwareEnv, so that any `NAME`
may be given as a file named by `NAME_FILE` (Docker and Kubernetes secrets).

A value that cannot be read as what it must be stops start-up with ImproperlyConfigured naming the
variable (manage.py, gunicorn and the worker print it as one line): django-environ would raise a bare
ValueError (a traceback), and would take any misspelt switch ("ture") as off."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_KINDS = {int: "a whole number", float: "a number", bool: "true or false (or on/off, yes/no, 1/0)"}
_TRUE = {s.lower() for s in environ.Env.BOOLEAN_TRUE_STRINGS}
_FALSE = {"false", "off", "no", "n", "0", ""}


def _is(cast: Any, text: str) -> bool:
    if cast is bool:
        return text.strip().lower() in _TRUE | _FALSE
    try:  # django-environ's own float() drops what is no digit: "5s" was 5.0
        cast(text.strip())
    except ValueError:
        return False
    return True


class Env(environ.FileAwareEnv):
    def get_value(self, var: str, cast: Any = None, default: Any = environ.Env.NOTSET,
                  parse_default: bool = False) -> Any:
        file_var = f"{var}_FILE"
        try:
            if cast in _KINDS and os.environ.get(file_var):  # django-environ reads the file, not {var}
                if not _is(cast, self.ENVIRON[var]):
                    # Its content is not quoted: a file may hold a secret (a password mounted there by mistake).
                    raise ImproperlyConfigured(f"{file_var}={os.environ[file_var]}: the file must hold "
                                               f"{_KINDS[cast]}, and holds something else (not shown here).")
            elif cast in _KINDS and var in os.environ and not _is(cast, os.environ[var]):
                raise ImproperlyConfigured(f"{var} must be {_KINDS[cast]}, not {os.environ[var]!r}.")
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except OSError as exc:
            raise ImproperlyConfigured(f"{file_var}={os.environ.get(file_var)} cannot be read: {exc}") from None
        except UnicodeDecodeError:  # its message quotes a byte of the file
            raise ImproperlyConfigured(f"{file_var}={os.environ.get(file_var)} cannot be read: "
                                       "it is not UTF-8 text.") from None


env = Env()


def env_secret(name: str, default: str | None = None) -> str | None:
    """NAME, or the contents of the file NAME_FILE names, without the file's trailing newline."""
    value = env.get_value(name, default=default)
    return value.strip() if isinstance(value, str) else value


def database_url(default: str) -> dict[str, Any]:
    """DATABASE_URL (or DATABASE_URL_FILE) as Django's DATABASES entry. A scheme django-environ does not
    know would become an ENGINE of that name, and Django's error a paragraph ending "Check the above
    exception"; the URL itself is never quoted (it may hold a password). A `#` is refused wherever it stands:
    the rest is the URL's fragment."""
    raw = env_secret("DATABASE_URL", default=default) or default
    unreadable = ImproperlyConfigured(
        "DATABASE_URL cannot be read as a URL (postgres://user:password@host:5432/name): a character of the "
        "user, password or database name that a URL gives a meaning (/ ? # [ ] @ :) must be written percent-encoded "
        "(/ as %2F, ? as %3F, # as %23, @ as %40), and the port must be a number.")
    if "#" in raw:
        # A fragment, which django-environ drops: "/re#gui" opened database "re", "a#b.sqlite3" the file "a".
        raise unreadable
    try:
        scheme = urlsplit(raw).scheme if "://" in raw else ""
    except ValueError:  # its message can quote part of the password ("Invalid IPv6 URL" does not, others may)
        raise unreadable from None
    if scheme not in environ.Env.DB_SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL: {scheme!r} is no database scheme regui knows (postgres://user@host:5432/name, "
            "sqlite:////absolute/path.sqlite3, mysql://...).")
    try:
        return environ.Env.db_url_config(raw)
    except ValueError:
        # urllib's "Port could not be cast to integer value as 'hunter'": the password's first characters.
        raise unreadable from None
