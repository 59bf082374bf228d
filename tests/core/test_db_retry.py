"""A database statement tried again while the database is away for a moment (db_retry): a few
times, after the caller's delays, on a new connection each time; never inside a transaction, and
never for an error that is not the database's being away."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection

from regui.core import dbretry


class Connection:
    """Stands for django.db.connection: whether a transaction is open, and how often it was closed."""

    def __init__(self, in_atomic_block: bool = False) -> None:
        self.in_atomic_block = in_atomic_block
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def conn(monkeypatch):
    fake = Connection()
    monkeypatch.setattr(dbretry, "connection", fake)
    return fake


@pytest.fixture
def slept(monkeypatch):
    delays: list[float] = []
    monkeypatch.setattr(dbretry.time, "sleep", delays.append)
    return delays


def failing(errors: list[Exception], then: str = "read"):
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return then

    return fn, calls


def test_a_statement_that_works_runs_once_without_closing_or_waiting(conn, slept):
    fn, calls = failing([])
    assert dbretry.db_retry(fn, [1.0, 2.0]) == "read"
    assert (len(calls), conn.closed, slept) == (1, 0, [])


@pytest.mark.parametrize("error", [OperationalError("server closed the connection unexpectedly"),
                                   InterfaceError("connection already closed")])
def test_the_database_away_is_tried_again_after_each_delay_on_a_new_connection(conn, slept, error):
    fn, calls = failing([error, error])
    assert dbretry.db_retry(fn, [1.0, 2.0]) == "read"
    assert len(calls) == 3
    assert conn.closed == 2  # the broken connection, before each new try
    assert slept == [1.0, 2.0]


def test_the_last_error_is_raised_once_the_delays_are_used_up(conn, slept):
    errors: list[Exception] = [OperationalError(f"away {n}") for n in range(5)]
    fn, calls = failing(errors)
    with pytest.raises(OperationalError, match="away 4"):
        dbretry.db_retry(fn, [0.5] * 4)
    assert (len(calls), conn.closed, slept) == (5, 4, [0.5] * 4)


def test_no_delays_means_one_try(conn, slept):
    fn, calls = failing([OperationalError("away")])
    with pytest.raises(OperationalError):
        dbretry.db_retry(fn, [])
    assert (len(calls), conn.closed, slept) == (1, 0, [])


@pytest.mark.parametrize("error", [IntegrityError("duplicate key"), DatabaseError("syntax error"),
                                   ValueError("a bug")])
def test_an_error_that_is_not_the_database_being_away_is_raised_at_once(conn, slept, error):
    fn, calls = failing([error])
    with pytest.raises(type(error)):
        dbretry.db_retry(fn, [1.0, 2.0])
    assert (len(calls), conn.closed, slept) == (1, 0, [])


def test_inside_a_transaction_the_first_error_is_raised_and_the_connection_kept(monkeypatch, slept):
    fake = Connection(in_atomic_block=True)
    monkeypatch.setattr(dbretry, "connection", fake)
    fn, calls = failing([OperationalError("away")])
    with pytest.raises(OperationalError):
        dbretry.db_retry(fn, [1.0, 2.0])
    assert (len(calls), fake.closed, slept) == (1, 0, [])


@pytest.mark.django_db
def test_with_the_real_connection_in_a_transaction_the_error_is_raised_and_the_connection_still_works(slept):
    fn, calls = failing([OperationalError("away")])
    with pytest.raises(OperationalError):
        dbretry.db_retry(fn, [1.0])
    assert (len(calls), slept) == (1, [])
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
