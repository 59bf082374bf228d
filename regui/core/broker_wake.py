"""A consumer of the embedded broker waits for its queue folder to change instead of sleeping.

A poll every 10 ms cost an idle worker ~3 % of a core and left each task on the queue for 5 ms on
average before anyone looked (a push is three or more tasks in a row: the job, its chunks). inotify
says at once when a file is renamed into the folder (regui's senders) or closed after writing (kombu's
stock senders), so the wait can end then; the poll stays, much less often, as a safety net for what
inotify cannot see (another machine writing to a shared folder). Where inotify cannot be had (not
Linux, or the user's watches used up) the consumer sleeps the short poll interval, as before.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from inotify_simple import INotify, flags  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

# The longest a waiting consumer goes without a look at its folder when inotify watches it.
SAFETY_POLL = 0.5


class FolderWake:
    def __init__(self, folder: Path, poll: float) -> None:
        self.poll = poll
        self._inotify: INotify | None = None
        try:
            inotify = INotify()
        except OSError as exc:
            log.info("inotify unavailable (%s): the embedded broker polls its queue every %s s", exc, poll)
            return
        try:
            # Watched before the first look at the folder: a message landing between a look that found
            # nothing and the wait is already an event, and the wait returns at once.
            inotify.add_watch(folder, flags.MOVED_TO | flags.CLOSE_WRITE)
        except OSError as exc:
            inotify.close()
            log.info("cannot watch %s (%s): the embedded broker polls it every %s s", folder, exc, poll)
            return
        self._inotify = inotify

    @property
    def watching(self) -> bool:
        return self._inotify is not None

    def wait(self, longest: float | None) -> None:
        """Return when the folder may hold something new, or after `longest` seconds (None: no limit
        but the safety poll)."""
        if self._inotify is None:
            time.sleep(self.poll if longest is None else max(0.0, min(self.poll, longest)))
            return
        limit = SAFETY_POLL if longest is None else max(0.0, min(SAFETY_POLL, longest))
        # Every event waiting is read (and dropped): the look that follows sees all of them at once.
        self._inotify.read(timeout=int(limit * 1000))

    def close(self) -> None:
        if self._inotify is not None:
            self._inotify.close()
            self._inotify = None
