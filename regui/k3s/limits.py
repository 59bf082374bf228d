"""How big a registries.yaml regui will work on: one place for the numbers, read by the parser (so
every engine entry point is bounded), the Registries page's form and the import.

Real files have tens of mirrors with a few endpoints and rewrites each; every cap is many times
that. They exist so that one request cannot hold a worker for minutes: bench/limits.py times the
worst file within them (insight under 1 s, save under 2 s).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NoReturn

from .model import Registries, RegistriesParseError

MAX_MIRRORS = 200
MAX_CONFIGS = 200
MAX_ENDPOINTS = 10  # per mirror
MAX_REWRITES = 20  # per mirror: lint compares a mirror's rewrites with each other
MAX_REWRITES_TOTAL = 100  # in the whole file
MAX_VALUE_CHARS = 8192  # one key or value: an endpoint, a path, a token
MAX_PATTERN_CHARS = 1024  # one rewrite pattern (real ones are tens of characters)
# What RE2 makes of one pattern, in program instructions (pattern_cost): counted repetitions copy
# what they repeat, and a Unicode class is a thousand instructions, so a 1 KB pattern could take
# RE2 tens of milliseconds to compile, on every request and for each of a file's rewrites.
MAX_PATTERN_COST = 5000
# The file as written, and the keys, values and items in it (aliases not expanded): reading YAML
# costs about 20 µs a node, so 1 MiB of one-word keys took 5 s before anything else was checked.
MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 20_000
# Every key and value once aliases are expanded (an anchor used 500 times counts 500 times).
MAX_EXPANDED_BYTES = 512 * 1024
# K3s copies a mirror's rewrites into each of its endpoints' hosts.toml tables; this bounds
# the sum over mirrors of endpoints × rewrite text, which is what lint and Explain read back.
MAX_REWRITE_COPIES_BYTES = 512 * 1024


class RegistriesTooLarge(RegistriesParseError):
    """A file beyond regui's limits: K3s may well read it, but regui will not analyse it."""


def size_text(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n // 1024} KiB"


class Budget:
    """The bytes of every key and value the decoder produces, aliases expanded: the size of the
    document K3s resolves. The composer shares an anchored node between its aliases, so without
    this a 99 KB file (one 100 KB string aliased 500 times) became 50 MB of registries."""

    def __init__(self, anchors: dict[str, tuple[int, int]]) -> None:
        self.left = MAX_EXPANDED_BYTES
        self.anchors = anchors  # name -> (line defined, times used)

    def spend(self, value: str, line: int) -> None:
        if len(value) > MAX_VALUE_CHARS:
            raise RegistriesTooLarge(f"line {line}: a value of {len(value)} characters; regui reads values of "
                                     f"at most {MAX_VALUE_CHARS}", line)
        # One more for the separator each value needs in a file, so that empty values count too.
        self.left -= 1 + (len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass")))
        if self.left < 0:
            raise RegistriesTooLarge(self._over(line), line)

    def entry(self, line: int) -> None:
        """A mapping entry, merges expanded: its ": " and newline. This is what stops a merge-key bomb
        (each level merging the one before twice) early, before its keys are even decoded."""
        self.left -= 3
        if self.left < 0:
            raise RegistriesTooLarge(self._over(line), line)

    def _over(self, line: int) -> str:
        limit = size_text(MAX_EXPANDED_BYTES)
        if not self.anchors:
            return f"line {line}: the keys and values of this file come to more than {limit}, regui's limit"
        name, (defined, uses) = max(self.anchors.items(), key=lambda item: item[1][1])
        return (f"line {line}: with its aliases expanded this file comes to more than {limit}, regui's limit "
                f"(&{name}, defined on line {defined}, is used {uses} times)")


def check_counts(reg: Registries) -> None:
    """Refuse a decoded file with more mirrors, configs, endpoints or rewrites than regui works on,
    naming the first line beyond the limit."""

    def refuse(message: str, path: tuple[Any, ...]) -> NoReturn:
        line = reg.lines.get(path)
        raise RegistriesTooLarge(f"line {line}: {message}" if line else message, line)

    for section, found, limit in (("mirrors", reg.mirrors, MAX_MIRRORS), ("configs", reg.configs, MAX_CONFIGS)):
        if len(found) > limit:
            refuse(f"{len(found)} {section}; regui works on at most {limit}", (section, list(found)[limit]))
    total = 0
    copies: list[tuple[int, str]] = []
    for key, mirror in reg.mirrors.items():
        at = ("mirrors", key)
        if len(mirror.endpoints) > MAX_ENDPOINTS:
            refuse(f"mirrors.{key[:80]} has {len(mirror.endpoints)} endpoints; regui works on at most "
                   f"{MAX_ENDPOINTS} per mirror", (*at, "endpoint", MAX_ENDPOINTS))
        if len(mirror.rewrites) > MAX_REWRITES:
            refuse(f"mirrors.{key[:80]} has {len(mirror.rewrites)} rewrites; regui works on at most "
                   f"{MAX_REWRITES} per mirror", (*at, "rewrite", list(mirror.rewrites)[MAX_REWRITES]))
        for pattern in mirror.rewrites:
            if problem := pattern_problem(pattern):
                refuse(f"mirrors.{key[:80]}: a rewrite pattern {problem}", (*at, "rewrite", pattern))
        total += len(mirror.rewrites)
        if total > MAX_REWRITES_TOTAL:
            refuse(f"more than {MAX_REWRITES_TOTAL} rewrites in all; regui works on at most that many",
                   (*at, "rewrite", list(mirror.rewrites)[len(mirror.rewrites) - (total - MAX_REWRITES_TOTAL)]))
        copies.append((rewrite_copies(len(mirror.endpoints), mirror.rewrites.items()), key))
    if sum(n for n, _ in copies) > MAX_REWRITE_COPIES_BYTES:
        biggest, key = max(copies)
        refuse(f"K3s copies a mirror's rewrites into each of its endpoints, and this file's copies come to more "
               f"than {size_text(MAX_REWRITE_COPIES_BYTES)} of hosts.toml (mirrors.{key[:80]} alone "
               f"{biggest // 1024} KiB); regui works on at most that much: use fewer or shorter rewrites, or "
               "fewer endpoints", ("mirrors", key))


def pattern_problem(pattern: str) -> str | None:
    """How a rewrite pattern is beyond regui's limits, or None."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"of {len(pattern)} characters; regui works on patterns of at most {MAX_PATTERN_CHARS}"
    if (cost := pattern_cost(pattern)) > MAX_PATTERN_COST:
        return (f"that RE2 compiles to about {cost} instructions (its counted repetitions and Unicode classes); "
                f"regui works on patterns of at most {MAX_PATTERN_COST}")
    return None


def rewrite_copies(endpoints: int, rewrites: Iterable[tuple[str, str]]) -> int:
    """The rewrite text K3s writes for one mirror: every rewrite once per endpoint."""
    return endpoints * sum(len(pattern) + len(replacement) for pattern, replacement in rewrites)


# Program instructions RE2 makes of one atom, measured (UTF-8): a Unicode category is ~1200, "." and
# a negated class ~12, an ASCII literal or class 1.
_UNICODE_CLASS, _WIDE, _ASCII = 1200, 16, 1


def pattern_cost(pattern: str) -> int:
    """An upper estimate of the instructions RE2 compiles ``pattern`` to: what bounds its compile time.

    One pass over the pattern: atoms weigh what RE2 makes of them, a group the sum of its atoms,
    ``{n,m}`` multiplies what it follows by its largest count (RE2 writes out that many copies);
    ``*``, ``+`` and ``?`` loop without copying. Case folding (``(?i``) counts everything four times."""
    if not any(c in pattern for c in "\\.[{(") and pattern.isascii():
        return len(pattern)  # literals only: fast path
    groups: list[int] = [0]  # the weight so far of each open group
    last = 0  # weight of the atom or group a quantifier would apply to
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            kind = pattern[i + 1:i + 2]
            end = i + 2
            if kind in ("p", "P", "x") and pattern[end:end + 1] == "{":
                end = pattern.find("}", end) + 1 or n
            elif kind in ("p", "P"):
                end += 1
            if kind == "Q":  # quoted literal text up to \E
                stop = pattern.find("\\E", end)
                end = n if stop < 0 else stop + 2
                last = 4 * (end - i)
            else:
                last = _UNICODE_CLASS if kind in ("p", "P") else _WIDE if kind in ("D", "W", "S", "C", "x") else _ASCII
            groups[-1] += last
            i = end
            continue
        if c == "[":
            j = i + 1 + (pattern[i + 1:i + 2] == "^")
            j += pattern[j:j + 1] == "]"  # a leading ] is a member
            while j < n and pattern[j] != "]":
                if pattern[j] == "\\":
                    j += 2
                elif pattern.startswith("[:", j) and (close := pattern.find(":]", j)) >= 0:
                    j = close + 2  # [:alpha:] inside a class
                else:
                    j += 1
            body = pattern[i:j + 1]
            last = _UNICODE_CLASS if ("\\p" in body or "\\P" in body) else _WIDE if (
                body.startswith("[^") or not body.isascii()) else _ASCII
            groups[-1] += last
            i = j + 1
            continue
        if c == "(" and (flags := _FLAG_GROUP.match(pattern, i)):
            i = flags.end()  # (?i) sets flags and is no atom: a quantifier after it repeats the atom before
            continue
        if c == "(":
            groups.append(2)  # a group's capture
        elif c == ")":
            last = groups.pop() if len(groups) > 1 else 0
            groups[-1] += last
        elif c == "{" and (count := _COUNT.match(pattern, i)):
            # {n,m} writes m copies, those past n optional (two instructions each).
            low, high = int(count[1]), int(count[2] or 0)
            times = max(low, 1) if count[2] is None or high <= low else 2 * high
            groups[-1] += last * (times - 1)
            last *= times
            i = count.end()
            continue
        elif c == "|":
            groups[-1] += 1
        elif c in "^$":  # an anchor is an instruction of its own, and a quantifier may repeat it
            last = 1
            groups[-1] += 1
        elif c in "*+?":  # the loop's own instruction, part of what a following {n,m} copies
            groups[-1] += 1
            last += 1
        else:
            last = _WIDE if c == "." or not c.isascii() else _ASCII
            groups[-1] += last
        i += 1
    total = sum(groups)
    return total * 4 if "(?" in pattern and "i" in "".join(_FLAGS.findall(pattern)) else total


_COUNT = re.compile(r"\{(\d{1,7})(?:,(\d{0,7}))?\}")
_FLAGS = re.compile(r"\(\?([a-zA-Z-]*)[):]")
_FLAG_GROUP = re.compile(r"\(\?[a-zA-Z-]*\)")
