"""A Celery task's database connections live as a request's do: reused while young and usable."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from regui.celery import _database_connections, app

pytestmark = pytest.mark.django_db(transaction=True)


def _task(eager: bool = False) -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


@pytest.fixture(autouse=True)
def _fresh_connection():
    """Each test starts from a new, usable connection: an earlier test on the same process (a database
    outage, a killed backend) may have left this one broken, and a broken one is rightly closed."""
    connection.close()
    connection.ensure_connection()


def test_celerys_django_fixup_leaves_the_connection_open_around_tasks():
    connection.ensure_connection()
    before = connection.connection
    fixup = DjangoWorkerFixup(app)
    for _ in range(50):  # prerun and postrun of 25 tasks
        fixup.close_database()
    assert connection.connection is before


def test_a_young_usable_connection_is_kept_between_tasks(settings):
    connection.ensure_connection()
    before = connection.connection
    _database_connections(sender=_task())  # type: ignore[arg-type]
    connection.ensure_connection()
    assert connection.connection is before


def test_a_connection_older_than_conn_max_age_is_closed_after_a_task():
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1
    _database_connections(sender=_task())  # type: ignore[arg-type]
    assert connection.connection is None


def test_an_eager_task_leaves_its_callers_connection_alone():
    connection.ensure_connection()
    before = connection.connection
    connection.close_at = time.monotonic() - 1
    _database_connections(sender=_task(eager=True))  # type: ignore[arg-type]
    assert connection.connection is before
