"""The embedded Celery broker: kombu's filesystem transport, made safe for a sender and a worker at once.

kombu 5.7's filesystem transport creates a message file and only then writes it, while the receiver
lists, moves and reads files without a lock: a worker polling every 10 ms reads a file still empty
and dies on `JSONDecodeError`, and the message is gone (it was deleted before parsing). It also
deletes a message when it is fetched, so a worker killed with messages prefetched loses them.

Here a message is written and fsynced under a temporary name and renamed into the queue folder
(a reader sees the whole file or nothing). A consumer claims a file by renaming it into a folder
of its own, deletes it on ack and puts it back on reject or shutdown; a folder whose owner died
(its lock is released by the kernel) goes back to the queue. A file that still cannot be read is
left for a later poll, then set aside in `bad/`, never fatal. Bindings are replaced the same way.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any, cast

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.json import dumps, loads

from .broker_wake import FolderWake

log = logging.getLogger(__name__)

# A file that cannot be read yet may be a sender of the stock transport still writing it.
UNREADABLE_GRACE = 10.0
RECOVER_EVERY = 30.0  # seconds between looks for claims left by dead consumers


def _write_atomically(tmp_dir: Path, target: Path, data: bytes, fsync: bool) -> None:
    tmp = tmp_dir / f"{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.rename(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if fsync:
        _fsync_dir(target.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _message_name(queue: str) -> str:
    # Zero-padded wall-clock nanoseconds: names sort in sending order across processes and reboots.
    return f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"


def _queue_of(filename: str) -> str:
    """`<stamp>_<id>.<queue>.msg` -> `<queue>.msg` (the stock transport's naming, kept compatible)."""
    return filename.partition(".")[2]


class Claims:
    """The messages this process has taken but not yet acked, in a folder locked for its lifetime."""

    def __init__(self, root: Path, queue_dir: Path) -> None:
        self.root, self.queue_dir = root, queue_dir
        self.by_tag: dict[str, list[Path]] = {}
        self.mutex = threading.Lock()
        self._dir: Path | None = None
        self._lock_fd: int | None = None
        self._recovered_at = -RECOVER_EVERY  # the first look is at once

    def folder(self) -> Path:
        if self._dir is None:
            # Built under a hidden name with its lock already held, then renamed into place, so a
            # recovering consumer never sees this folder unlocked.
            owner = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
            new = self.root / f".new-{owner}"
            new.mkdir(parents=True)
            fd = os.open(new / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(new, self.root / owner)
            self._dir, self._lock_fd = self.root / owner, fd
        return self._dir

    def take(self, filename: str) -> Path | None:
        """Move a message from the queue into this consumer's folder; None if another took it."""
        target = self.folder() / filename
        try:
            os.rename(self.queue_dir / filename, target)
        except FileNotFoundError:
            return None
        return target

    def remember(self, tag: str, path: Path) -> None:
        with self.mutex:
            self.by_tag.setdefault(tag, []).append(path)

    def settle(self, tag: str) -> None:
        """The message is acked, rejected or restored elsewhere: its claimed copy goes."""
        with self.mutex:
            paths = self.by_tag.get(tag)
            path = paths.pop(0) if paths else None
            if paths == []:
                del self.by_tag[tag]
        if path is not None:
            path.unlink(missing_ok=True)

    def recover_orphans(self, tmp_dir: Path, force: bool = False) -> int:
        """Put back the messages of consumers that died holding them. Returns how many."""
        now = time.monotonic()
        if not force and now - self._recovered_at < RECOVER_EVERY:
            return 0
        self._recovered_at = now
        restored = 0
        for folder in self.root.glob("[!.]*"):
            if folder == self._dir:
                continue
            restored += _restore_folder(folder, self.queue_dir)
        _drop_stale_temporaries(tmp_dir)
        return restored

    def close(self) -> None:
        if self._dir is not None and not any(self._dir.glob("*.msg")):
            (self._dir / ".lock").unlink(missing_ok=True)
            self._dir.rmdir()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock: anything left is recovered by the next consumer
        self._dir = self._lock_fd = None


def _restore_folder(folder: Path, queue_dir: Path) -> int:
    try:
        fd = os.open(folder / ".lock", os.O_RDWR)
    except FileNotFoundError:
        return 0  # being removed by its owner
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # its owner is alive
        count = 0
        for msg in folder.glob("*.msg"):
            os.rename(msg, queue_dir / msg.name)  # the original name keeps its place in the queue
            count += 1
        if count:
            log.warning("Put back %d message(s) taken by a consumer that stopped (%s)", count, folder.name)
        (folder / ".lock").unlink(missing_ok=True)
        folder.rmdir()
        return count
    finally:
        os.close(fd)


def _drop_stale_temporaries(tmp_dir: Path, age: float = 3600.0) -> None:
    """A sender that died between writing and renaming leaves a temporary file nobody will read."""
    cutoff = time.time() - age
    for tmp in tmp_dir.glob("*.tmp"):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except FileNotFoundError:
            pass


class QoS(virtual.QoS):
    def ack(self, delivery_tag: str) -> None:
        super().ack(delivery_tag)
        cast(Channel, self.channel).claims.settle(delivery_tag)

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        super().reject(delivery_tag, requeue=requeue)
        if not requeue:  # a requeue went through Channel._restore, which settles the claim itself
            cast(Channel, self.channel).claims.settle(delivery_tag)


class Channel(filesystem.Channel):
    QoS = QoS

    def __init__(self, connection: Transport, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        self._no_ack_queues: set[str] = set()
        for folder in (self.data_folder_out, self.tmp_folder, self.control_folder):
            Path(folder).mkdir(parents=True, exist_ok=True)

    @property
    def claims(self) -> Claims:
        return cast(Transport, self.connection).claims_for(Path(self.data_folder_in), self.claimed_folder)

    @property
    def tmp_folder(self) -> Path:
        return Path(self.transport_options.get("tmp_folder") or Path(self.data_folder_out).parent / "tmp")

    @property
    def claimed_folder(self) -> Path:
        return Path(self.transport_options.get("claimed_folder") or Path(self.data_folder_in).parent / "claimed")

    @property
    def bad_folder(self) -> Path:
        return Path(self.transport_options.get("bad_folder") or Path(self.data_folder_in).parent / "bad")

    @property
    def fsync(self) -> bool:
        return bool(self.transport_options.get("fsync", True))

    # --- messages -------------------------------------------------------------------------------------

    def _put(self, queue: str, payload: dict, **kwargs: Any) -> None:  # type: ignore[override]  # as in kombu-stubs
        target = Path(self.data_folder_out) / _message_name(queue)
        try:
            _write_atomically(self.tmp_folder, target, dumps(payload).encode(), self.fsync)
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {target.parent}: {exc}") from exc

    def _get(self, queue: str) -> dict:  # type: ignore[override]  # as in kombu-stubs
        claims = self.claims
        claims.recover_orphans(self.tmp_folder)
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in)):
            if _queue_of(filename) != wanted:
                continue
            path = claims.take(filename)
            if path is None:
                continue  # another consumer was faster
            payload = self._read(path, filename)
            if payload is None:
                continue
            if queue in self._no_ack_queues:
                path.unlink(missing_ok=True)
            else:
                claims.remember(payload["properties"]["delivery_tag"], path)
            return payload
        raise Empty()

    def _read(self, path: Path, filename: str) -> dict | None:
        try:
            payload = loads(path.read_bytes())
            payload["properties"]["delivery_tag"]  # noqa: B018  (a message kombu cannot ack is unreadable too)
            return payload
        except (ValueError, TypeError, KeyError) as exc:
            age = time.time() - path.stat().st_mtime
            if age < UNREADABLE_GRACE:
                os.rename(path, Path(self.data_folder_in) / filename)  # try again on a later poll
            else:
                self.bad_folder.mkdir(parents=True, exist_ok=True)
                os.rename(path, self.bad_folder / filename)
                log.error("Set aside an unreadable message %s in %s: %r", filename, self.bad_folder, exc)
            return None

    def _restore(self, message: Any) -> None:
        super()._restore(message)  # written again first: a crash in between duplicates, never loses
        if message.delivery_tag:
            self.claims.settle(message.delivery_tag)

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack and message.delivery_tag:
            self.claims.settle(message.delivery_tag)
        return message

    # --- bindings -------------------------------------------------------------------------------------

    def queue_bind(self, *args: Any, **kwargs: Any) -> Any:
        # kombu marks a binding as made before it writes it: another thread that saw the mark would
        # publish by the file without it, and its message would have nowhere to go.
        with _bind_lock:
            return super().queue_bind(*args, **kwargs)

    def _table_file(self, exchange: str) -> Path:
        """Refuses names that would leave the control folder (kombu's own check)."""
        return cast(Path, self._exchange_file(exchange))  # type: ignore[attr-defined]

    def get_table(self, exchange: str) -> list:
        file = self._table_file(exchange)
        try:
            return [filesystem.exchange_queue_t(*q) for q in loads(file.read_bytes())]
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise ChannelError(f"Cannot read {file}: {exc}") from exc

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._update_table(exchange, lambda table: table if entry in table else [entry, *table])

    def _delete(self, queue: str, exchange: str, routing_key: str, pattern: str, *args: Any, **kwargs: Any) -> None:
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._update_table(exchange, lambda table: [q for q in table if q != entry])

    def _update_table(self, exchange: str, change: Callable[[list], list]) -> None:
        """Read-modify-replace under a lock file that is never replaced itself."""
        file = self._table_file(exchange)
        try:
            with open(file.with_name(file.name + ".lock"), "a") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                table = self.get_table(exchange)
                new = change(table)
                if new != table:
                    _write_atomically(self.tmp_folder, file, dumps(new).encode(), self.fsync)
        except OSError as exc:
            raise ChannelError(f"Cannot update {file}: {exc}") from exc

    def close(self) -> None:
        transport = cast("Transport | None", self.connection)
        super().close()  # restores what is unacked, then detaches from the transport
        if transport is not None:
            transport.release_claims()


_states: dict[str, virtual.BrokerState] = {}
_bind_lock = threading.Lock()


class Transport(filesystem.Transport):
    Channel = Channel
    driver_name = "regui-filesystem"

    @property
    def default_connection_params(self) -> dict[str, Any]:
        # A folder has no host: kombu's default of "localhost" made it warn "No hostname was supplied"
        # each time a connection was cloned (Celery's producer pool: every task sent).
        return {"port": None, "hostname": ""}

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        # What this process has declared, per folder: kombu keeps one for all, so a binding made
        # for one folder would be taken as made for another.
        folder = str((client.transport_options or {}).get("control_folder", "control"))
        self.state = _states.setdefault(folder, virtual.BrokerState())
        self._claims: Claims | None = None
        self._claims_mutex = threading.Lock()
        self._wake: FolderWake | None = None
        self._queue_folder = Path((client.transport_options or {}).get("data_folder_in", "data_in"))

    def claims_for(self, queue_dir: Path, root: Path) -> Claims:
        # One per connection: a message may be fetched by one of its channels and acked through another.
        with self._claims_mutex:
            if self._claims is None:
                self._claims = Claims(root, queue_dir)
            return self._claims

    def release_claims(self) -> None:
        with self._claims_mutex:
            if self._claims is not None and not any(c for c in self.channels or () if not c.closed):
                self._claims.close()
                self._claims = None

    def drain_events(self, connection: Any, timeout: float | None = None) -> None:  # type: ignore[override]  # kombu-stubs' two bases disagree
        """kombu's loop, waiting for the queue folder to change (broker_wake) where it slept the poll
        interval."""
        started = time.monotonic()
        cycle = self.cycle
        assert cycle is not None  # made by kombu's Transport.__init__
        if self._wake is None:
            self._wake = FolderWake(self._queue_folder, self.polling_interval or 0.0)
        while True:
            try:
                cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                left = None if timeout is None else timeout - (time.monotonic() - started)
                if left is not None and left <= 0:
                    raise TimeoutError() from None
                self._wake.wait(left)

    def close_connection(self, connection: Any) -> None:
        super().close_connection(connection)
        if self._wake is not None:
            self._wake.close()
            self._wake = None
