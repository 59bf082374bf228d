"""Which of a mirror's rewrite patterns can both change the same repository name (lint rule
``rewrite-overlap``), found without trying every pair of patterns.

The rule is defined pairwise: patterns p1 (earlier in the file) and p2 overlap when one of their
*samples* — the few names each pattern's syntax tree produces (``examples``), plus p1's first
sample + "/" + p2's first (the *joined* sample) — is changed by both; the finding names the
smallest such sample. Trying that for every pair cost rewrites² × 7 replacements plus 4 regex
parses per pair (one mirror with 500 rewrites took 104 s). Here each pattern is parsed once, and a
name is only replaced by the patterns that can match it:

- a pattern's own samples go through one RE2::Set of all the patterns, which names the matching
  ones in a single pass;
- a joined sample ends with p2's first sample, so when p2 is anchored with ``^`` it must start with
  the literal text every match of p2 starts with (RE2's ``PossibleMatchRange``): a sorted index of
  the first halves finds those p1 without looking at the others.

Cost: about linear in the rewrites when they are anchored (as real ones are); an unanchored p2 is
still tried against every earlier pattern's joined sample (one C-level search each), and such pairs
mostly do overlap, so they are findings anyway.
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .rewrite import PatternSet, RewriteError, compile_pattern, replace_all

if TYPE_CHECKING:  # typeshed describes the parser under its old name only
    import sre_parse as _sre
else:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import re._parser as _sre
        except ImportError:  # pragma: no cover
            import sre_parse as _sre

# Python's parser only sketches sample strings here (RE2 decides every match); its warning that "[[" may
# mean a nested set in a future Python is about Python's own regexes, and is noise for RE2 patterns.
warnings.filterwarnings("ignore", message="Possible nested set", category=FutureWarning)

# How much of a literal prefix RE2 is asked for: enough to tell real patterns apart.
_PREFIX_BYTES = 64
# The longest sample tried (real patterns make samples of tens of characters).
SAMPLE_MAX = 4096


@dataclass(frozen=True)
class Overlap:
    first: str
    second: str
    sample: str  # the smallest sample both change


class _TooLong(Exception):
    pass


def examples(pattern: str) -> list[str]:
    """A few strings the pattern matches, built from its syntax tree (best effort). None for a
    pattern whose repetitions would make them longer than ``SAMPLE_MAX`` (``x{1000}`` written 1000
    times made samples of a million characters, and trying them took seconds), as for one the
    parser cannot read."""
    try:
        tree = _sre.parse(pattern)
    except Exception:
        return []

    def gen(items: Any, variant: int) -> str:
        s: list[str] = []
        size = 0
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                s.append(chr(av))
            elif name == "ANY":
                s.append("a")
            elif name == "IN":
                s.append(_class_char(av))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                lo, _hi, sub = av
                part, times = gen(sub, variant), max(lo, 1 if variant else lo)
                if len(part) * times > SAMPLE_MAX:
                    raise _TooLong
                s.append(part * times)
            elif name == "SUBPATTERN":
                s.append(gen(av[-1], variant))
            elif name == "BRANCH":
                branches = av[1]
                s.append(gen(branches[variant % len(branches)], variant))
            else:
                continue
            size += len(s[-1])
            if size > SAMPLE_MAX:
                raise _TooLong
        return "".join(s)

    try:
        return [gen(tree, v) for v in range(3)]
    except _TooLong:
        return []


def _class_char(items: Any) -> str:
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            return chr(av)
        if name == "RANGE":
            return chr(av[0])
        if name == "CATEGORY":
            return "a" if "WORD" in str(av) or "NOT_DIGIT" in str(av) else "0"
    return "a"


def _anchored(pattern: str) -> bool:
    """Every match starts at the beginning of the name: a leading ``^`` that no quantifier makes
    optional and no top-level ``|`` bypasses. Unsure means False (the pattern is then tried on
    every sample, which is always correct)."""
    if not pattern.startswith("^") or pattern[1:2] in ("*", "+", "?", "{") or "\\Q" in pattern:
        return False
    depth, i, in_class = 0, 1, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            # RE2 ends a class no earlier than this ([:alpha:] only extends it), so while this scan is
            # inside a class RE2 is too, and a | seen outside one is never missed.
            in_class = c != "]"
        elif c == "[":
            in_class = True
            start = i + 2 if pattern[i + 1:i + 2] == "^" else i + 1
            if pattern[start:start + 1] == "]":  # a leading ] is a member, not the end
                i = start
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth <= 0:
            return False
        i += 1
    return True


def _literal_prefix(pattern: str) -> str:
    """Text that every match of an anchored pattern starts with ("" if none or unknown)."""
    try:
        low, high = compile_pattern(pattern).possiblematchrange(_PREFIX_BYTES)
    except Exception:
        return ""
    n = 0
    while n < min(len(low), len(high)) and low[n] == high[n]:
        n += 1
    common = low[:n]
    try:
        return common.decode("utf-8")
    except UnicodeDecodeError as e:  # cut a character split by the length limit
        return common[:e.start].decode("utf-8")


class _CrossIndex:
    """For the samples ``first(i) + "/" + first(j)``: which earlier i could p_j change there."""

    def __init__(self, firsts: Sequence[str | None]) -> None:
        self.heads = sorted((f + "/", i) for i, f in enumerate(firsts) if f is not None)
        self.keys = [h for h, _ in self.heads]
        self.by_head: dict[str, list[int]] = {}
        for head, i in self.heads:
            self.by_head.setdefault(head, []).append(i)

    def starting_with(self, prefix: str, tail: str) -> Iterator[int]:
        """Every i whose ``head + tail`` starts with ``prefix``."""
        # A head at least as long as the prefix must start with it (a sorted range) ...
        at = bisect.bisect_left(self.keys, prefix)
        while at < len(self.keys) and self.keys[at].startswith(prefix):
            yield self.heads[at][1]
            at += 1
        # ... a shorter one must be a prefix of it (heads end with "/") that the tail completes.
        cut = prefix.find("/")
        while 0 <= cut < len(prefix) - 1:
            head = prefix[:cut + 1]
            if tail.startswith(prefix[cut + 1:]):
                yield from self.by_head.get(head, ())
            cut = prefix.find("/", cut + 1)


def overlaps(rewrites: Mapping[str, str], patterns: Sequence[str]) -> list[Overlap]:
    """Pairs of ``patterns`` (compilable keys of ``rewrites``, in file order) that both change a
    sample, each with its smallest such sample; pairs in file order."""
    samples = [examples(p) for p in patterns]
    firsts = [s[0] if s else None for s in samples]
    everyone = range(len(patterns))
    known: dict[tuple[int, str], bool] = {}

    def changes(k: int, name: str) -> bool:
        if (k, name) not in known:
            try:
                # No match, no change: one C-level search settles most candidates.
                known[k, name] = (compile_pattern(patterns[k]).search(name) is not None
                                  and replace_all(patterns[k], rewrites[patterns[k]], name) != name)
            except RewriteError:
                known[k, name] = False
        return known[k, name]

    best: dict[tuple[int, int], str] = {}

    def offer(a: int, b: int, sample: str) -> None:
        pair = (min(a, b), max(a, b))
        if pair not in best or sample < best[pair]:
            best[pair] = sample

    # A pattern's own samples, against the patterns that match them.
    matching = PatternSet(patterns)
    for i, own in enumerate(samples):
        for name in set(own):
            if changes(i, name):
                found = matching.search(name)
                for k in sorted(found) if found is not None else everyone:
                    if k != i and changes(k, name):
                        offer(i, k, name)
    # The joined samples first(i) + "/" + first(j), for i before j.
    prefixes = [_literal_prefix(p) if _anchored(p) else "" for p in patterns]
    cross = _CrossIndex(firsts)
    for j, tail in enumerate(firsts):
        if tail is None:
            continue
        earlier = cross.starting_with(prefixes[j], tail) if prefixes[j] else range(j)
        for i in earlier:
            head = firsts[i]
            if i >= j or head is None:
                continue
            joined = f"{head}/{tail}"
            # p_j first: when it is unanchored this is where most pairs are ruled out.
            if changes(j, joined) and changes(i, joined):
                offer(i, j, joined)
    return [Overlap(patterns[i], patterns[j], sample) for (i, j), sample in sorted(best.items())]
