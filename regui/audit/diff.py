"""Diffs for the History pages, as plain rows for templates: no Django, no database.

Two texts (redacted registries.yaml of two revisions) become unified or side-by-side rows, and an
entry's `changes` ({field: [before, after]}) become before/after cells with the differing lines marked.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

CONTEXT = 3


@dataclass(frozen=True)
class UnifiedLine:
    kind: str  # "hunk" | "ctx" | "del" | "add"
    text: str
    old_no: int | None = None
    new_no: int | None = None

    @property
    def sign(self) -> str:
        return {"del": "-", "add": "+", "ctx": " "}.get(self.kind, "")


@dataclass(frozen=True)
class SideRow:
    kind: str  # "equal" | "replace" | "delete" | "insert" | "skip"
    old_no: int | None = None
    old: str | None = None
    new_no: int | None = None
    new: str | None = None


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _groups(a: list[str], b: list[str], context: int | None):
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if context is None:
        # The whole file: one group holding every opcode.
        return [matcher.get_opcodes()] if a or b else []
    return list(matcher.get_grouped_opcodes(context))


def has_changes(a: str, b: str) -> bool:
    return _lines(a) != _lines(b)


def unified(a: str, b: str, *, context: int | None = CONTEXT) -> list[UnifiedLine]:
    """Unified diff lines with line numbers; empty when the texts have the same lines."""
    old, new = _lines(a), _lines(b)
    if old == new:
        return []
    out: list[UnifiedLine] = []
    for group in _groups(old, new, context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        # Same header arithmetic as difflib.unified_diff: a zero-length range names the line before it.
        out.append(UnifiedLine("hunk", f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@"))
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out.extend(UnifiedLine("ctx", old[i], i + 1, b1 + i - a1 + 1) for i in range(a1, a2))
                continue
            out.extend(UnifiedLine("del", old[i], i + 1, None) for i in range(a1, a2))
            out.extend(UnifiedLine("add", new[j], None, j + 1) for j in range(b1, b2))
    return out


def _range(start: int, stop: int) -> str:
    length = stop - start
    first = start + 1 if length else start
    return str(first) if length == 1 else f"{first},{length}"


def side_by_side(a: str, b: str, *, context: int | None = CONTEXT) -> list[SideRow]:
    """Rows pairing old and new lines; a "skip" row stands for unchanged lines left out."""
    old, new = _lines(a), _lines(b)
    if old == new:
        return []
    rows: list[SideRow] = []
    groups = _groups(old, new, context)
    for n, group in enumerate(groups):
        if n or group[0][1] > 0 or group[0][3] > 0:
            rows.append(SideRow("skip"))
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                rows.extend(SideRow("equal", i + 1, old[i], b1 + i - a1 + 1, new[b1 + i - a1]) for i in range(a1, a2))
            elif tag == "delete":
                rows.extend(SideRow("delete", i + 1, old[i]) for i in range(a1, a2))
            elif tag == "insert":
                rows.extend(SideRow("insert", None, None, j + 1, new[j]) for j in range(b1, b2))
            else:
                # A replaced block pairs line by line; the longer side continues against blanks.
                for k in range(max(a2 - a1, b2 - b1)):
                    i, j = a1 + k, b1 + k
                    rows.append(SideRow("replace", i + 1 if i < a2 else None, old[i] if i < a2 else None,
                                        j + 1 if j < b2 else None, new[j] if j < b2 else None))
    if groups and (groups[-1][-1][2] < len(old) or groups[-1][-1][4] < len(new)):
        rows.append(SideRow("skip"))
    return rows


# --- an entry's changes -------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueLine:
    text: str
    mark: str = ""  # "" | "del" | "add": the line is not on the other side


@dataclass
class ChangeRow:
    field: str  # hides dataclasses.field inside this class body (for mypy), hence dataclasses.field below
    before: list[ValueLine] = dataclasses.field(default_factory=list)
    after: list[ValueLine] = dataclasses.field(default_factory=list)
    # None stands for "absent" on that side (created or deleted), shown as a dash, not as `null`.
    before_absent: bool = False
    after_absent: bool = False
    label: str = ""  # what the page shows for `field` (the form's label); the field name when empty


def render_value(value: Any) -> list[str]:
    """JSON text of one value: lists and objects pretty, one item a line, so item changes stand out."""
    if isinstance(value, (list, dict)) and value:
        return json.dumps(value, indent=2, ensure_ascii=False).splitlines()
    return [json.dumps(value, ensure_ascii=False)]


def change_rows(changes: Any, label: Callable[[str], str] = str) -> list[ChangeRow]:
    """Before/after rows of an entry's `changes`; anything not shaped [before, after] shows as "after".
    `label` names each field for people (the entry's form labels)."""
    if not isinstance(changes, dict):
        return [ChangeRow("(value)", [], [ValueLine(t) for t in render_value(changes)], before_absent=True)]
    rows = []
    for name, pair in changes.items():
        before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        old = render_value(before) if before is not None else []
        new = render_value(after) if after is not None else []
        # Compared without the trailing comma: the last item of a JSON list has none.
        old_set, new_set = {t.rstrip(",") for t in old}, {t.rstrip(",") for t in new}
        rows.append(ChangeRow(
            str(name),
            [ValueLine(t, "" if t.rstrip(",") in new_set else "del") for t in old],
            [ValueLine(t, "" if t.rstrip(",") in old_set else "add") for t in new],
            before_absent=before is None, after_absent=after is None, label=label(str(name)),
        ))
    return rows
