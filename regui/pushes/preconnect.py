"""Connections opened ahead of a node's turn: all of a chunk's at once, once its render is checked (the
handshake only), or while the step before it restarts (the handshake, and a key's login). rolling.py
makes them; node_push uses them.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import connection

from regui.inventory.models import Node
from regui.inventory.services import NodeError, node_target
from regui.remote import ssh, transport


def signs_in_early(target: ssh.Target) -> bool:
    """A key logs in with a signature bound to this one connection: nothing the node could reuse, so the
    next step's nodes may log in ahead of their turn. A password is the secret itself: it goes to a node
    only at its push."""
    return bool(target.private_key) and not target.password


class _LoggedIn:
    """An opening logged in ahead of time (see Preconnected): its login is the session it already has."""

    def __init__(self, session: transport.Session) -> None:
        self._session = session

    def login(self) -> transport.Session:
        return self._session

    def alive(self) -> bool:
        return self._session.alive()

    def close(self) -> None:
        self._session.close()


def _logged_in(opening: transport.Opening) -> _LoggedIn:
    try:
        return _LoggedIn(opening.login())
    except BaseException:
        opening.close()
        raise


class Preconnected:
    """Connections to the next step's nodes, opened while this step's nodes restart, when this task runs
    that step too: a rolling restart then pays no SSH handshake, and for a key no login, between steps.
    The pinned host key is checked first; a password waits until the node's push (see signs_in_early),
    so a node that ends up skipped receives no password and no command. A connection is used only for the
    very target the gate gives at push time (the node may have changed meanwhile) and while it is up."""

    def __init__(self, nodes: list[Node], after: int = 0, *, final: bool = False, deferred: bool = False) -> None:
        """Opens once `after` nodes of the running step have begun their restart, or ended (`sent`): the
        handshakes then use the CPU while those nodes restart, not while they log in and write (which
        they slowed by ~40 ms per step of 10 nodes on 2 cores, when they started at the logins).
        `final`: these are the nodes' connections (opened at once for the whole chunk), tried with the
        configured retries: a handshake that fails is the node's failure, not tried again by its push.
        Else one try, and a push whose connection failed connects again. `deferred`: opens only at
        `start` (or a node's push: see target, take)."""
        self._opened: dict[int, tuple[ssh.Target, transport.Opening]] = {}
        self._failed: dict[int, tuple[ssh.Target, ssh.SSHError]] = {}
        self._gated: dict[int, ssh.Target | NodeError] = {}  # final mode: what the trust gate said, per node
        self._nodes = {n.pk: n for n in nodes}
        self._final = final
        # Taken now: a handshake still going when its chunk has ended (see close) uses the same one.
        self._edge = transport.current()
        self._closed = False
        self._lock = threading.Lock()
        self._threads = {n.pk: threading.Thread(target=self._open, args=(n,), daemon=True) for n in nodes}
        self._waiting_for, self._sent, self._started = after, set[int](), False
        if not after and not deferred:
            self._start()

    def start(self) -> None:
        """Open now (made `deferred`); a node's push that comes first opens them too (see target, take)."""
        self._start()

    def sent(self, node_id: int) -> None:
        """A node of the running step sent its program (or ended before): one fewer to wait for."""
        with self._lock:
            self._sent.add(node_id)
            due = len(self._sent) >= self._waiting_for
        if due:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        for t in self._threads.values():
            t.start()

    def _open(self, node: Node) -> None:
        retries, backoff = (settings.REGUI_SSH_RETRIES, settings.REGUI_SSH_BACKOFF) if self._final else (1, 0)
        try:
            target = node_target(node)
            if self._final:
                with self._lock:
                    self._gated[node.pk] = target
            opening = self._edge.handshake(target, timeout=settings.REGUI_SSH_CONNECT_TIMEOUT,
                                           retries=retries, backoff=backoff)
            if not self._final and signs_in_early(target):
                # While this step's nodes restart, not at this node's turn. Not in final mode: each node's
                # push follows its handshake at once, and logs in then.
                opening = _logged_in(opening)
        except NodeError as exc:  # the trust gate refused: its push says why (see target)
            if self._final:
                with self._lock:
                    self._gated[node.pk] = exc
            return
        except ssh.SSHError as exc:
            if self._final:  # what its push says, unless the node changed meanwhile (see take)
                with self._lock:
                    self._failed[node.pk] = (target, exc)
            return
        except Exception:  # its push connects again, and says what went wrong
            return
        finally:
            connection.close()
        with self._lock:
            late = self._closed
            if not late:
                self._opened[node.pk] = (target, opening)
        if late:  # its chunk ended meanwhile (see close)
            opening.close()

    def target(self, node: Node) -> ssh.Target:
        """The node's target through the trust gate (raises NodeError as node_target does). In final mode,
        for the very node object it was opened for, the one the gate gave when the handshake began: the
        credential is unsealed once per node, not twice."""
        thread = self._threads.get(node.pk)
        if self._final and thread is not None and self._nodes.get(node.pk) is node:
            self._start()
            thread.join()
            with self._lock:
                gated = self._gated.get(node.pk)
            if isinstance(gated, NodeError):
                raise gated
            if gated is not None:
                return gated
        return node_target(node)

    def take(self, node_id: int, target: ssh.Target) -> transport.Opening | None:
        """The connection opened to `target`; None when there is none to use (connect now). Raises the
        handshake's error, in `final` mode, when it was made to this very target."""
        thread = self._threads.get(node_id)
        if thread is None:
            return None
        self._start()
        thread.join()
        with self._lock:
            opened = self._opened.pop(node_id, None)
            failed = self._failed.pop(node_id, None)
        if failed is not None and failed[0] == target:
            raise failed[1]
        if opened is None:
            return None
        if opened[0] != target or not opened[1].alive():
            opened[1].close()
            return None
        return opened[1]

    def close(self, wait: bool = True) -> None:
        """Close what was opened and not taken. `wait=False`: handshakes still going are not waited for;
        each closes its connection when it ends (a chunk that pushes nothing ends at once, not after an
        unreachable node's timeouts and retries). Handshakes not started yet never start."""
        with self._lock:
            self._closed = True
            started, self._started = self._started, True
        if wait and started:
            for t in self._threads.values():
                t.join()
        with self._lock:
            for _, opening in self._opened.values():
                opening.close()
            self._opened.clear()


class RestartWatch:
    """Tells `ahead` once the node's program says that it restarts the service (the RESTART line of
    script.push_program, printed just before `systemctl restart`)."""

    MARK = b"\nRESTART "

    def __init__(self, ahead: Preconnected, node_id: int) -> None:
        self.ahead, self.node_id = ahead, node_id
        self.tail, self.seen = b"\n", False

    def __call__(self, chunk: bytes) -> None:
        if self.seen:
            return
        text = self.tail + chunk  # the mark may arrive split between chunks
        if self.MARK in text:
            self.seen = True
            self.ahead.sent(self.node_id)
        self.tail = text[-len(self.MARK):]
