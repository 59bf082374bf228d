"""What a push's node program (regui/remote/script.py) says, read back: the words it prints on stdout, one
a line (BEFORE/AFTER sums, RESULT, RESTART, ACTIVE, BACKUP, ERROR, REMOVED/KEPT/STALE, WARNING). Pure
Python, no Django."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    before: dict[str, str]
    after: dict[str, str]
    result: str  # "changed" | "unchanged" | "checked" | ""
    restarted: bool
    active: str
    backup: str
    error: str
    removed: list[str] = field(default_factory=list)  # files regui wrote and no longer names
    kept: list[str] = field(default_factory=list)  # such files, changed on the node since: left alone
    stale: list[str] = field(default_factory=list)  # such files, left until the service runs the new file
    warnings: list[str] = field(default_factory=list)
    restart_epoch: int | None = None  # the node's clock (seconds) just before its restart

    def tidy_text(self, service: str) -> str:
        """What the push did about files it no longer names, for the node's message ("" when nothing)."""
        parts = []
        if self.removed:
            parts.append(f"removed {', '.join(self.removed)} (written by regui, no longer named)")
        if self.kept:
            parts.append(f"kept {', '.join(self.kept)}: no longer named, but changed on the node since regui "
                         "wrote it")
        if self.stale:
            parts.append(f"{', '.join(self.stale)} no longer named: removed by a push once {service} has "
                         "restarted with the new file")
        return "".join(f"; {p}" for p in [*parts, *self.warnings])


def parse_report(stdout: str) -> Report:
    report = Report({}, {}, "", False, "", "", "")
    lists = {"REMOVED": report.removed, "KEPT": report.kept, "STALE": report.stale, "WARNING": report.warnings}
    for line in stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("BEFORE", "AFTER"):
            path, _, sha = rest.rpartition(" ")
            (report.before if word == "BEFORE" else report.after)[path] = sha
        elif word == "RESULT":
            report.result = rest.strip()
        elif word == "RESTART":
            report.restarted = True
            stamp = rest.split()[-1:]
            report.restart_epoch = int(stamp[0]) if stamp and stamp[0].isascii() and stamp[0].isdigit() else None
        elif word == "ACTIVE":
            report.active = rest.strip()
        elif word == "BACKUP":
            report.backup = rest.strip()
        elif word == "ERROR":
            report.error = rest.strip()
        elif word in lists:
            lists[word].append(rest.strip())
    return report
