"""Repository rewrites as containerd (K3s fork) applies them: Go regexp + ``Regexp.Expand``.

Go's ``ReplaceAllString`` differs from Python's ``re.sub`` (no second empty match right after
a match, ``$`` never matches before a trailing newline) and its template syntax is its own
(``$1x`` is the group *named* ``1x``). RE2 gives us Go's regex dialect; the replace loop and
template expansion are re-implemented here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 otherwise prints every bad pattern to stderr


class RewriteError(ValueError):
    pass


@functools.lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re2._Regexp[str]:
    """Compile like Go's ``regexp.Compile``; raise RewriteError if containerd would skip it."""
    _check_go_only_rules(pattern)
    try:
        return re2.compile(pattern, _OPTIONS)
    except Exception as e:  # re2 raises its own error type with bytes messages
        msg = e.args[0] if e.args else str(e)
        if isinstance(msg, bytes):
            msg = msg.decode("utf-8", "replace")
        raise RewriteError(str(msg)) from None


_GROUP_NAME = re.compile(r"\(\?P?<([^>]*)>")
_GO_CAPTURE_NAME = re.compile(r"[A-Za-z0-9_]+")


def _check_go_only_rules(pattern: str) -> None:
    """What Go's regexp/syntax refuses and the C++ RE2 accepts: ``\\C`` (a single byte) and group names
    beyond ASCII letters, digits and ``_`` (Go's isValidCaptureName). Escapes, ``\\Q...\\E`` and
    bracket classes are skipped: there ``(?P<`` is literal text."""
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1:i + 2]
            if nxt == "C":
                raise RewriteError("invalid escape sequence: `\\C`")
            if nxt == "Q":
                end = pattern.find("\\E", i + 2)
                i = n if end < 0 else end + 2
                continue
            i += 2
        elif ch == "[":
            i += 1
            if pattern[i:i + 1] == "^":
                i += 1
            if pattern[i:i + 1] == "]":  # a "]" first in a class is literal
                i += 1
            while i < n and pattern[i] != "]":
                if pattern.startswith("[:", i) and (end := pattern.find(":]", i + 2)) >= 0:
                    i = end + 2  # [:alpha:] inside a class
                    continue
                i += 2 if pattern[i] == "\\" else 1
            i += 1
        elif ch == "(" and (m := _GROUP_NAME.match(pattern, i)) is not None:
            if m.group(1) and not _GO_CAPTURE_NAME.fullmatch(m.group(1)):
                raise RewriteError(f"invalid named capture: `{m.group(0)}`")
            i = m.end()
        else:
            i += 1


class PatternSet:
    """Which of many compilable patterns have a match in a text, in one RE2 pass (RE2::Set)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._count = len(patterns)
        self._set: re2.Set | None = re2.Set.SearchSet(_OPTIONS)
        try:
            for pattern in patterns:
                self._set.Add(pattern)
            # Matches every text: a result without it means RE2's DFA ran out of memory and the
            # answer is incomplete (RE2::Set then reports no matches at all).
            self._set.Add("")
            self._set.Compile()
        except re2.error:
            self._set = None

    def search(self, text: str) -> set[int] | None:
        """Indexes of the patterns with a match in ``text``; None when RE2 cannot tell."""
        if self._set is None:
            return None
        try:
            hits = self._set.Match(text)
        except Exception:  # e.g. a lone surrogate RE2 cannot encode: let the caller try each pattern
            return None
        if not hits or self._count not in hits:
            return None
        return {h for h in hits if h < self._count}


def _extract(template: str) -> tuple[str, int, str] | None:
    """Go ``regexp.extract``: (name, number or -1, rest) or None if malformed."""
    if not template:
        return None
    brace = template[0] == "{"
    s = template[1:] if brace else template
    i = 0
    while i < len(s) and (s[i].isalpha() or s[i].isdecimal() or s[i] == "_"):
        i += 1
    if i == 0:
        return None
    name = s[:i]
    if brace:
        if i >= len(s) or s[i] != "}":
            return None
        i += 1
    num = -1
    if name.isascii() and name.isdigit() and not (name[0] == "0" and len(name) > 1) and len(name) <= 9:
        num = int(name)
    return name, num, s[i:]


def expand(template: str, groups: list[str | None], names: dict[str, int]) -> str:
    """Go ``Regexp.Expand`` for one match; ``groups[0]`` is the whole match."""
    out: list[str] = []
    while template:
        before, sep, after = template.partition("$")
        if not sep:
            break
        out.append(before)
        template = after
        if template.startswith("$"):
            out.append("$")
            template = template[1:]
            continue
        parsed = _extract(template)
        if parsed is None:
            out.append("$")  # malformed reference: Go keeps the dollar literally
            continue
        name, num, template = parsed
        idx = num if num >= 0 else names.get(name, -1)
        group = groups[idx] if 0 <= idx < len(groups) else None
        if group is not None:
            out.append(group)
    out.append(template)
    return "".join(out)


def replace_all(pattern: str, replacement: str, src: str) -> str:
    """Go ``regexp.MustCompile(pattern).ReplaceAllString(src, replacement)``."""
    rx = compile_pattern(pattern)
    names = dict(rx.groupindex)
    out: list[str] = []
    last_end, pos, end = 0, 0, len(src)
    while pos <= end:
        m = rx.search(src, pos, end)
        if m is None:
            break
        a0, a1 = m.span()
        out.append(src[last_end:a0])
        # Skip an empty match right after the previous match (Go avoids double replacement).
        if a1 > last_end or a0 == 0:
            groups = [m.group(i) for i in range(rx.groups + 1)]
            out.append(expand(replacement, groups, names))
        last_end = a1
        pos = pos + 1 if pos + 1 > a1 else a1
    out.append(src[last_end:])
    return "".join(out)


@dataclass(frozen=True)
class RewriteOutcome:
    repository: str
    pattern: str | None  # the pattern that produced it; None when nothing changed


def rewrite_outcomes(rewrites: dict[str, str], repository: str) -> list[RewriteOutcome]:
    """Every repository containerd may request, given Go's random map order.

    containerd tries the patterns in map order and stops at the first one that *changes*
    the name, so any changing pattern can win; patterns that fail to compile are skipped.
    """
    results: list[RewriteOutcome] = []
    seen: set[str] = set()
    for pattern in sorted(rewrites):
        try:
            new = replace_all(pattern, rewrites[pattern], repository)
        except RewriteError:
            continue
        if new != repository and new not in seen:
            seen.add(new)
            results.append(RewriteOutcome(new, pattern))
    return results or [RewriteOutcome(repository, None)]


def ambiguous_group_refs(replacement: str) -> list[str]:
    """``$1x``-style references: Go reads them as the (usually missing) group named ``1x``."""
    found: list[str] = []
    t = replacement
    while "$" in t:
        t = t.split("$", 1)[1]
        if t.startswith("$"):
            t = t[1:]
            continue
        parsed = _extract(t)
        if parsed is None:
            continue
        name, num, rest = parsed
        if not t.startswith("{") and num < 0 and name[0].isdecimal():
            found.append("$" + name)
        t = rest
    return found
