"""Running one function on many items at once, each in a thread of its own, as a push's nodes run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


def errors_in_threads(fn: Callable[[T], object], items: Iterable[T]) -> list[BaseException]:
    """`fn(item)` for every item at once, each in its own thread; what they raised, once all ended."""
    errors: list[BaseException] = []

    def one(item: T) -> None:
        try:
            fn(item)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
