"""A waiting consumer of the embedded broker is woken when a message lands (inotify), not by its next poll."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import kombu
import pytest

from regui.core import broker_wake
from tests.core.test_broker import QUEUE, publish

SLOW_POLL = 30.0  # so long that only a wake can deliver within a test's patience


def connect(root: Path, poll: float) -> kombu.Connection:
    options = {"data_folder_in": str(root / "queue"), "data_folder_out": str(root / "queue"),
               "tmp_folder": str(root / "tmp"), "claimed_folder": str(root / "claimed"),
               "bad_folder": str(root / "bad"), "control_folder": str(root / "control"),
               "polling_interval": poll}
    return kombu.Connection("filesystem://", transport="regui.core.broker:Transport", transport_options=options)


def consume_in_background(conn: kombu.Connection, got: list) -> threading.Thread:
    def run() -> None:
        with (kombu.Consumer(conn.default_channel, [QUEUE], callbacks=[lambda body, m: (got.append(body), m.ack())]),
              contextlib.suppress(TimeoutError)):
            conn.drain_events(timeout=20)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_waiting_consumer_takes_a_message_when_it_lands_not_at_its_next_poll(tmp_path, monkeypatch):
    monkeypatch.setattr(broker_wake, "SAFETY_POLL", SLOW_POLL)
    got: list = []
    with connect(tmp_path, SLOW_POLL) as consumer, connect(tmp_path, SLOW_POLL) as sender:
        publish(sender, {"warm": 1})  # declares the queue and its folder before the consumer looks
        thread = consume_in_background(consumer, got)
        thread.join(5)
        assert got == [{"warm": 1}]
        thread = consume_in_background(consumer, got)
        time.sleep(0.3)  # the consumer has looked, found nothing, and waits
        publish(sender, {"n": 1})
        thread.join(5)
        assert not thread.is_alive() and got == [{"warm": 1}, {"n": 1}]


def test_a_consumer_with_nothing_to_take_still_times_out(tmp_path):
    with connect(tmp_path, SLOW_POLL) as conn:
        publish(conn, {"declare": True})
        with kombu.Consumer(conn.default_channel, [QUEUE], callbacks=[lambda body, m: m.ack()]):
            conn.drain_events(timeout=5)
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                conn.drain_events(timeout=0.3)
            assert 0.3 <= time.monotonic() - started < SLOW_POLL


def test_without_inotify_the_consumer_polls_its_folder_as_before(tmp_path, monkeypatch):
    def unavailable() -> None:
        raise OSError(24, "Too many open files")
    monkeypatch.setattr(broker_wake, "INotify", unavailable)
    got: list = []
    with connect(tmp_path, 0.01) as consumer, connect(tmp_path, 0.01) as sender:
        publish(sender, {"warm": 1})
        consume_in_background(consumer, got).join(5)
        thread = consume_in_background(consumer, got)
        time.sleep(0.3)
        publish(sender, {"n": 1})
        thread.join(5)
        assert got == [{"warm": 1}, {"n": 1}]
        assert not consumer.transport._wake.watching


def test_a_folder_that_cannot_be_watched_falls_back_to_polling(tmp_path):
    wake = broker_wake.FolderWake(tmp_path / "missing", 0.01)
    try:
        assert not wake.watching
        started = time.monotonic()
        wake.wait(None)
        assert time.monotonic() - started < 1.0
    finally:
        wake.close()
