"""Reading configuration from the environment: django-environ's FileAwareEnv, so that any `NAME`
may be given as a file named by `NAME_FILE` (Docker and Kubernetes secrets)."""

from __future__ import annotations

import os

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.FileAwareEnv()


def env_secret(name: str, default: str | None = None) -> str | None:
    """NAME, or the contents of the file NAME_FILE names, without the file's trailing newline."""
    try:
        value = env.get_value(name, default=default)
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}_FILE={os.environ.get(f'{name}_FILE')} cannot be read: {exc}") from exc
    return value.strip() if isinstance(value, str) else value
