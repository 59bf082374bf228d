"""The POSIX shell program a push runs on a node, in one SSH exec. Pure Python, no Django.

One round trip does it all: compare sha256 sums, write what differs atomically, back up the old
registries.yaml, restart the service when asked and wait until it is active. Everything lives in
a function called on the last line, so a connection cut while the program is being sent leaves
a syntax error, not half a program. File contents travel base64-encoded inside the program on
stdin: they never appear in a command line on the node.
"""

from __future__ import annotations

import base64
import hashlib
import shlex
from dataclasses import dataclass

BACKUPS_KEPT = 5


@dataclass(frozen=True)
class RemoteFile:
    path: str
    content: bytes
    dir_mode: str = "0700"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


_PRELUDE = r"""
main() {
umask 077
changed=0
say() { printf '%s\n' "$*"; }
fail() { say "ERROR $*"; exit 3; }
# Sets $_h to the file's sha256, or "-"; no subshell of its own (a push runs on many nodes at once).
hash_of() { _h=-; if [ -f "$1" ]; then set -- $(sha256sum "$1"); _h=$1; fi; }
check() {
  hash_of "$1"
  say "BEFORE $1 $_h"
  eval "c$3=\$_h"
  [ "$_h" = "$2" ] || changed=1
}
put() {
  dir=${1%/*}
  if [ ! -d "$dir" ]; then (umask 022; mkdir -p "$dir") && chmod "$3" "$dir" || fail "cannot create $dir"; fi
  tmp="$dir/.regui-$$.tmp"
  printf '%s' "$4" | base64 -d > "$tmp" 2>/dev/null || { rm -f "$tmp"; fail "cannot write $tmp"; }
  chown 0:0 "$tmp" 2>/dev/null
  hash_of "$tmp"
  [ "$_h" = "$2" ] || { rm -f "$tmp"; fail "content of $tmp does not match what was sent"; }
  sync "$tmp" 2>/dev/null || sync
  mv -f "$tmp" "$1" || { rm -f "$tmp"; fail "cannot replace $1"; }
  say "AFTER $1 $_h"
}
backup() {
  [ -f "$1" ] || return 0
  b="$1.regui-backup-$(date -u +%Y%m%dT%H%M%SZ)"
  cp "$1" "$b" || fail "cannot back up $1"
  say "BACKUP $b"
  n=0; for f in "$1".regui-backup-*; do [ -e "$f" ] && n=$((n+1)); done
  drop=$((n-KEEP))
  # Names sort by their UTC timestamp, so the glob lists the oldest first.
  for f in "$1".regui-backup-*; do [ $drop -gt 0 ] || break; rm -f "$f"; drop=$((drop-1)); done
}
"""


def _q(value: str) -> str:
    return shlex.quote(value)


def push_program(files: list[RemoteFile], *, mode: str, service: str, restart: bool,
                 force_restart: bool = False, wait_seconds: int = 60) -> str:
    """mode "push" writes what differs; mode "check" only reports sums (drift check)."""
    main_file = files[0]
    lines = [_PRELUDE.replace("KEEP", str(BACKUPS_KEPT))]
    lines += [f"check {_q(f.path)} {f.sha256} {i}" for i, f in enumerate(files)]
    if mode == "check":
        lines.append("say RESULT checked")
        lines.append("return 0")
    else:
        lines.append("if [ $changed = 0 ]; then say 'RESULT unchanged'; else")
        # The main file goes last: TLS material is in place before the config that names it.
        for i, f in [*list(enumerate(files))[1:], (0, main_file)]:
            payload = base64.b64encode(f.content).decode()
            backup = f"backup {_q(f.path)}; " if f is main_file else ""
            lines.append(f'  if [ "$c{i}" != {f.sha256} ]; then {backup}put {_q(f.path)} {f.sha256} '
                         f"{f.dir_mode} '{payload}'; fi")
        lines.append("  say 'RESULT changed'")
        lines.append("fi")
        if restart:
            condition = "true" if force_restart else '[ $changed = 1 ]'
            unit = _q(service)
            lines.append(f"""if {condition}; then
  say "RESTART {service}"
  systemctl restart {unit} || {{ say "ERROR systemctl restart {service} failed"; exit 4; }}
  i=0; state=$(systemctl is-active {unit} 2>/dev/null)
  while [ "$state" != active ] && [ $i -lt {int(wait_seconds * 4)} ]; do
    sleep 0.25; i=$((i+1)); state=$(systemctl is-active {unit} 2>/dev/null)
  done
  say "ACTIVE $state"
  [ "$state" = active ] || {{ say "ERROR {service} is $state, not active, {wait_seconds} s after the restart"; exit 5; }}
fi""")
    lines.append("}")
    lines.append("main")
    return "\n".join(lines) + "\n"


@dataclass
class Report:
    before: dict[str, str]
    after: dict[str, str]
    result: str  # "changed" | "unchanged" | "checked" | ""
    restarted: bool
    active: str
    backup: str
    error: str


def parse_report(stdout: str) -> Report:
    report = Report({}, {}, "", False, "", "", "")
    for line in stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word in ("BEFORE", "AFTER"):
            path, _, sha = rest.rpartition(" ")
            (report.before if word == "BEFORE" else report.after)[path] = sha
        elif word == "RESULT":
            report.result = rest.strip()
        elif word == "RESTART":
            report.restarted = True
        elif word == "ACTIVE":
            report.active = rest.strip()
        elif word == "BACKUP":
            report.backup = rest.strip()
        elif word == "ERROR":
            report.error = rest.strip()
    return report


def read_program(path: str) -> str:
    """Print one file (for "Import from node"), or say it is missing."""
    return f"main() {{\nif [ -f {_q(path)} ]; then cat {_q(path)}; else echo 'REGUI-MISSING' >&2; exit 2; fi\n}}\nmain\n"
