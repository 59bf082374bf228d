"""Which tests the fast tier's second run, on PostgreSQL + Redis (bin/test --db-or-broker-only), keeps.

That run exists for what differs between the two paths: the database and the broker. A test that
reaches neither behaves there exactly as on the embedded run, which runs every test, so it is left out.

- The database: pytest-django refuses a query to any test without its `django_db` marker or one of
  its database fixtures (DB_FIXTURES, also through a fixture that needs one), so a test without them
  cannot touch PostgreSQL. A Django TestCase is kept too.
- The broker: the run's broker is reached only through Celery (regui.celery's app, current_app, a
  task sent, a worker, its connection, the CELERY_* settings) or kombu. A test is kept when its module
  or one of its fixtures (their source, our own ones) names any of them (MENTIONS), or when it is
  marked `broker`.
  Naming the database (settings.DATABASES, DATABASE_URL, django.db, unblocking it through
  django_db_blocker) keeps it as well; the django_db marker on some tests of a module does not keep
  the others.
- Unsure cases fall on the side of keeping: a whole module is kept for one mention.

And the rule is held: while a test left out sets up and runs, a new broker connection or a message
sent raises, in every run (as pytest-django refuses the database), so one reaching the broker unseen
fails on the embedded run, which says to mark it `broker`.
"""

from __future__ import annotations

import inspect
import re
import unittest
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cache

import pytest

OPTION = "--db-or-broker-only"
# Not django_db_blocker: an autouse fixture of pytest-django's needs it for every test. A test or a
# fixture of ours that unblocks the database names it, which MENTIONS sees.
DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                         "_django_db_helper", "django_db_setup", "live_server"})
KEEP_MARKERS = frozenset({"django_db", "broker"})
MENTIONS = re.compile(r"celery|broker|kombu|redis|current_app|\.delay\(|apply_async|send_task|postgres|sqlite"
                      r"|(?-i:DATABASE|django\.db\b|django_db_blocker|django_db_setup|connection\.vendor)",
                      re.IGNORECASE)
KEPT = pytest.StashKey[bool]()


def uses_db_or_broker(fixtures: Iterable[str], markers: Iterable[str], sources: Iterable[str]) -> bool:
    """The rule, for a test with these fixtures (the whole closure) and markers, given its module's
    text and its fixtures' source."""
    return bool(DB_FIXTURES.intersection(fixtures) or KEEP_MARKERS.intersection(markers)
                or any(MENTIONS.search(text) for text in sources))


@cache
def _module_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return "broker"  # unreadable: keep the test


@cache
def _fixture_text(func: Callable[..., object]) -> str:
    try:
        path = inspect.getsourcefile(func) or ""
        # pytest's and pytest-django's own fixtures (settings, tmp_path, request...) name nothing of ours.
        return "" if "site-packages" in path else inspect.getsource(func)
    except (OSError, TypeError):
        return "broker"  # no source to read: keep the test


def _sources(item: pytest.Item) -> Iterator[str]:
    yield _module_text(str(item.path))
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        for fixturedef in defs:
            yield _fixture_text(fixturedef.func)


def item_uses_db_or_broker(item: pytest.Item) -> bool:
    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, unittest.TestCase):
        return True
    fixtures = getattr(item, "fixturenames", ())
    return uses_db_or_broker(fixtures, (m.name for m in item.iter_markers()), _sources(item))


def mark(items: list[pytest.Item]) -> None:
    for item in items:
        item.stash[KEPT] = item_uses_db_or_broker(item)


def keep_db_or_broker(config: pytest.Config, items: list[pytest.Item]) -> int:
    """Deselect (as -m does) the tests that use neither; returns how many."""
    kept = [item for item in items if item.stash.get(KEPT, True)]
    left_out = [item for item in items if not item.stash.get(KEPT, True)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
    return len(left_out)


class DbOrBrokerOnly:
    """Registered for the production run: after -m has chosen the tier, the tests that use neither go.

    Under pytest-xdist (-n) each worker collects and deselects the same tests (xdist refuses workers
    that collected different ones) and the controller, which collects nothing, says how many went
    when the run ends, from what its workers hand back."""

    left_out = 0
    from_workers = False

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        self.left_out = keep_db_or_broker(config, items)
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[OPTION] = self.left_out

    def pytest_report_collectionfinish(self) -> str:
        return self.said()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        left_out = getattr(node, "workeroutput", {}).get(OPTION)
        if left_out is not None:
            self.left_out, self.from_workers = left_out, True

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.from_workers:
            terminalreporter.write_line(self.said())

    def said(self) -> str:
        return (f"{OPTION}: {self.left_out} tests that use neither the database nor the broker left out "
                "(the embedded run has them; tests/selection.py)")


_refused: str | None = None  # the test running now, when it is one the production run leaves out


def _refuse(what: str) -> None:
    if _refused is not None:
        raise RuntimeError(f"{_refused} {what}, yet uses no database and names no broker, so bin/test leaves "
                           f"it out of the PostgreSQL + Redis run: mark it @pytest.mark.broker (tests/selection.py)")


def guard_the_broker() -> None:
    """Every new broker connection and every message sent asks first (a pooled connection is not new)."""
    from kombu import Connection, Producer

    connect, publish = Connection.__init__, Producer.publish

    def guarded_connect(self: Connection, *args: object, **kwargs: object) -> None:
        _refuse("opened a broker connection")
        connect(self, *args, **kwargs)

    def guarded_publish(self: Producer, *args: object, **kwargs: object) -> object:
        _refuse("sent a message to the broker")
        return publish(self, *args, **kwargs)

    Connection.__init__ = guarded_connect
    Producer.publish = guarded_publish


@contextmanager
def broker_refused_unless_kept(item: pytest.Item) -> Iterator[None]:
    global _refused
    _refused = None if item.stash.get(KEPT, True) else item.nodeid
    try:
        yield
    finally:
        _refused = None
