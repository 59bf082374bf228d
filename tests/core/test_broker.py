"""The embedded broker (regui/core/broker.py) on a real folder, through kombu as Celery uses it."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import kombu
import pytest

from regui.core import broker


def connect(root: Path) -> kombu.Connection:
    options = {"data_folder_in": str(root / "queue"), "data_folder_out": str(root / "queue"),
               "tmp_folder": str(root / "tmp"), "claimed_folder": str(root / "claimed"),
               "bad_folder": str(root / "bad"), "control_folder": str(root / "control"),
               "polling_interval": 0.001}
    return kombu.Connection("filesystem://", transport="regui.core.broker:Transport", transport_options=options)


QUEUE = kombu.Queue("tasks", kombu.Exchange("tasks", type="direct"), routing_key="tasks")


def publish(conn: kombu.Connection, *bodies: object) -> None:
    producer = kombu.Producer(conn.default_channel)
    for body in bodies:
        producer.publish(body, exchange=QUEUE.exchange, routing_key="tasks", declare=[QUEUE])


def take(conn: kombu.Connection) -> kombu.Message | None:
    """One message, not acked (basic_get, as a consumer with prefetch holds it)."""
    return QUEUE(conn.default_channel).get(no_ack=False)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.msg")) if folder.exists() else []


def claimed(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "claimed").glob("*/*.msg"))


def test_a_message_file_still_being_written_is_left_for_a_later_poll_instead_of_killing_the_consumer(tmp_path):
    with connect(tmp_path) as conn:
        publish(conn, {"n": 1})
        [name] = files(tmp_path / "queue")
        # What kombu's own transport does: create the file, then write it. A reader in between saw b"".
        early = tmp_path / "queue" / f"{time.time_ns() - 10**9:020d}_sender.tasks.msg"
        early.write_bytes(b"")
        first = take(conn)
        assert first.payload == {"n": 1}, "the readable message behind it is delivered"
        assert early.exists() and take(conn) is None
        early.write_bytes((tmp_path / "claimed").glob(f"*/{name}").__next__().read_bytes())
        assert take(conn).payload == {"n": 1}, "delivered once it is complete"


def test_a_message_that_stays_unreadable_is_set_aside_and_the_queue_goes_on(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(broker, "UNREADABLE_GRACE", 0.0)
    with connect(tmp_path) as conn:
        (tmp_path / "queue").mkdir(parents=True, exist_ok=True)
        (tmp_path / "queue" / f"{1:020d}_broken.tasks.msg").write_bytes(b"{not json")
        publish(conn, {"n": 2})
        assert take(conn).payload == {"n": 2}
    assert files(tmp_path / "bad") == [f"{1:020d}_broken.tasks.msg"]
    assert "unreadable message" in caplog.text


def test_publishing_leaves_only_whole_files_in_the_queue_folder(tmp_path):
    with connect(tmp_path) as conn:
        publish(conn, *({"n": i, "pad": "x" * 5000} for i in range(20)))
    names = files(tmp_path / "queue")
    assert len(names) == 20
    assert all(json.loads((tmp_path / "queue" / n).read_bytes())["body"] for n in names)
    assert not list((tmp_path / "tmp").iterdir()), "no temporary file is left behind"
    assert names == sorted(names), "names sort in sending order"


def test_an_acked_message_is_gone_and_a_requeued_one_comes_back(tmp_path):
    with connect(tmp_path) as conn:
        publish(conn, {"n": 1}, {"n": 2})
        one = take(conn)
        assert len(claimed(tmp_path)) == 1 and len(files(tmp_path / "queue")) == 1
        one.ack()
        assert claimed(tmp_path) == []
        two = take(conn)
        two.requeue()
        assert claimed(tmp_path) == []
        again = take(conn)
        assert again.payload == {"n": 2}
        again.reject()
        assert take(conn) is None and claimed(tmp_path) == [] and files(tmp_path / "queue") == []


def test_messages_taken_but_not_acked_go_back_to_the_queue_when_the_connection_closes(tmp_path):
    with connect(tmp_path) as conn:
        publish(conn, {"n": 1}, {"n": 2})
        take(conn)
        take(conn)
        assert len(claimed(tmp_path)) == 2
    assert claimed(tmp_path) == [] and len(files(tmp_path / "queue")) == 2
    with connect(tmp_path) as conn:
        assert sorted(take(conn).payload["n"] for _ in range(2)) == [1, 2]


def test_messages_held_by_a_process_that_died_go_back_to_the_queue(tmp_path):
    with connect(tmp_path) as conn:
        publish(conn, {"n": 1}, {"n": 2})
    pid = os.fork()
    if pid == 0:  # the consumer takes both and dies without acking or closing anything
        try:
            conn = connect(tmp_path)
            take(conn)
            take(conn)
        finally:
            os._exit(0 if len(claimed(tmp_path)) == 2 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and len(claimed(tmp_path)) == 2
    with connect(tmp_path) as conn:
        assert sorted(take(conn).payload["n"] for _ in range(2)) == [1, 2]


def test_a_live_consumers_messages_are_not_taken_from_it(tmp_path):
    with connect(tmp_path) as holder, connect(tmp_path) as other:
        publish(holder, {"n": 1})
        held = take(holder)
        other.default_channel.claims.recover_orphans(tmp_path / "tmp", force=True)
        assert take(other) is None and len(claimed(tmp_path)) == 1
        held.ack()


def test_concurrent_senders_and_consumers_deliver_every_message_exactly_once(tmp_path):
    per_sender, senders, consumers = 300, 3, 2
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def send(k: int) -> None:
        with connect(tmp_path) as conn:
            publish(conn, *({"n": k * per_sender + i} for i in range(per_sender)))

    def consume() -> None:
        try:
            with connect(tmp_path) as conn:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and len(got) < per_sender * senders:
                    msg = take(conn)
                    if msg is None:
                        continue
                    msg.ack()
                    with lock:
                        got.append(msg.payload["n"])
        except BaseException as exc:  # the bug being fixed: a consumer dying on a half-written file
            errors.append(exc)

    threads = [threading.Thread(target=consume) for _ in range(consumers)]
    threads += [threading.Thread(target=send, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(got) == list(range(per_sender * senders))
    assert claimed(tmp_path) == [] and files(tmp_path / "queue") == []


def test_bindings_made_at_once_by_many_connections_are_all_kept(tmp_path):
    def bind(i: int) -> None:
        with connect(tmp_path) as conn:
            kombu.Queue(f"q{i}", kombu.Exchange("fan", type="fanout"))(conn.default_channel).declare()

    threads = [threading.Thread(target=bind, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with connect(tmp_path) as conn:
        queues = {q.queue for q in conn.default_channel.get_table("fan")}
    assert queues == {f"q{i}" for i in range(12)}


@pytest.mark.parametrize("name", ["../escape", "a/b"])
def test_exchange_names_that_leave_the_control_folder_are_refused(tmp_path, name):
    from kombu.exceptions import ChannelError

    with connect(tmp_path) as conn, pytest.raises(ChannelError):
        conn.default_channel.get_table(name)


def test_connecting_warns_of_no_missing_hostname(tmp_path, caplog):
    """A folder needs no host: kombu's "No hostname was supplied" warning came with every push a worker
    queued (each chunk's next step), in the web server's log and in every manage.py that sent a task."""
    with caplog.at_level("WARNING"), connect(tmp_path) as conn:
        with conn.Pool(limit=1).acquire() as pooled:  # Celery sends from a pool of the connection's clones
            publish(pooled, {"n": 1})
        assert take(conn) is not None
    assert not [r for r in caplog.records if "hostname" in r.getMessage()]
