"""bin/test's fast-tier run on PostgreSQL + Redis keeps only the tests that use the database or the
broker (tests/selection.py); these collect sample test modules and ask the rule about each test."""

from __future__ import annotations

import sys

import pytest

from tests import selection

SAMPLES = {
    "pure": "def test_it(tmp_path):\n    assert tmp_path\n",
    "db_fixture": "def test_it(db):\n    pass\n",
    "db_marker": "import pytest\n\n@pytest.mark.django_db\ndef test_it():\n    pass\n",
    "db_through_a_fixture": ("import pytest\n\n@pytest.fixture\ndef user(transactional_db):\n    return 1\n\n"
                             "def test_it(user):\n    pass\n"),
    "celery_app": "from regui.celery import app\n\ndef test_it():\n    assert app.conf.task_default_queue\n",
    "broker_marker": "import pytest\n\n@pytest.mark.broker\ndef test_it():\n    pass\n",
}


@pytest.fixture
def collected(request, tmp_path, monkeypatch):
    """Each sample's one test, collected as pytest collects a test module (fixtures resolved)."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # the modules are imported from tmp_path
    items = {}
    for name, text in SAMPLES.items():
        path = tmp_path / f"sample_selection_{name}.py"
        path.write_text(text)
        module = pytest.Module.from_parent(request.session, path=path)
        (items[name],) = module.collect()
    yield items
    for name in SAMPLES:
        sys.modules.pop(f"sample_selection_{name}", None)


def test_a_pure_test_is_left_out_and_database_and_broker_tests_are_kept(collected):
    kept = {name for name, item in collected.items() if selection.item_uses_db_or_broker(item)}
    assert kept == set(SAMPLES) - {"pure"}


def test_the_production_run_deselects_the_left_out_tests_and_counts_them(collected):
    deselected = []

    class Hook:
        def pytest_deselected(self, items):
            deselected.extend(items)

    class Config:
        hook = Hook()

    items = list(collected.values())
    selection.mark(items)
    assert selection.keep_db_or_broker(Config(), items) == 1
    assert deselected == [collected["pure"]] and collected["pure"] not in items and len(items) == len(SAMPLES) - 1


def test_a_left_out_test_that_reaches_the_broker_fails_and_says_to_mark_it(collected):
    from kombu import Connection

    selection.mark(list(collected.values()))
    with selection.broker_refused_unless_kept(collected["pure"]), pytest.raises(RuntimeError, match="mark.broker"):
        Connection("memory://")
    with selection.broker_refused_unless_kept(collected["db_fixture"]):
        Connection("memory://").release()


def test_under_xdist_the_controller_says_how_many_its_workers_left_out(collected):
    from types import SimpleNamespace

    worker, controller, said = selection.DbOrBrokerOnly(), selection.DbOrBrokerOnly(), []
    config = SimpleNamespace(hook=SimpleNamespace(pytest_deselected=lambda items: None), workeroutput={})
    items = list(collected.values())
    selection.mark(items)
    worker.pytest_collection_modifyitems(config, items)
    controller.pytest_terminal_summary(SimpleNamespace(write_line=said.append))
    assert said == [], "a run without workers said it with the collection already"
    controller.pytest_testnodedown(SimpleNamespace(workeroutput=config.workeroutput), None)
    controller.pytest_terminal_summary(SimpleNamespace(write_line=said.append))
    assert said == [worker.said()] and said[0].startswith(f"{selection.OPTION}: 1 tests")
