"""The POSIX shell program a push runs on a node, in one SSH exec. Pure Python, no Django.

One round trip does it all: compare sha256 sums, write what differs atomically, back up the old
registries.yaml, restart the service when asked and wait until it is active. Everything lives in
a function called on the last line, so a connection cut while the program is being sent leaves
a syntax error, not half a program. File contents travel base64-encoded inside the program on
stdin: they never appear in a command line on the node. What it prints is read by report.parse_report.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import shlex
from dataclasses import dataclass
from datetime import UTC, datetime

BACKUPS_KEPT = 5  # earlier contents of the main file, at least (see prune in the program)


@dataclass(frozen=True)
class RemoteFile:
    path: str
    content: bytes
    dir_mode: str = "0700"
    # Written (and counted as a change) even when the node's file has the same sha256 already: the
    # caller cannot tell the node holds this content without answering whoever guessed it.
    force: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


_PRELUDE = r"""
main() {
umask 077
# The C locale: every tool's messages in the words regui parses, and no locale files loaded by each
# process (a node's LANG is often a UTF-8 locale: ~0.2 ms of CPU a process).
export LC_ALL=C
changed=0
tmps= prev=
# What the program says is sent in one write at its end (and one before a restart, which must be known
# at once: see pushes/nodepush.RestartWatch): a write a line made each line an SSH packet of its own for
# the node's sshd and for regui (~1 ms of CPU a push, of a few at each end).
_o=
say() { _o="$_o$*
"; }
flush() { [ -z "$_o" ] || printf '%s' "$_o"; _o=; }
trap flush EXIT
fail() { [ -z "$tmps" ] || rm -f $tmps; say "ERROR $*"; exit 3; }
# Sets $_h to the file's sha256, or "-"; no subshell of its own (a push runs on many nodes at once).
hash_of() { _h=-; if [ -f "$1" ]; then set -- $(sha256sum "$1"); _h=$1; fi; }
check() {
  hash_of "$1"
  say "BEFORE $1 $_h"
  [ "$_h" = "$2" ] || changed=1
}
# stage PATH SHA DIRMODE CONTENT ENCODING INDEX: write the new content beside PATH, then hash the
# new and the current file in one sha256sum (one process instead of two).
stage() {
  # mv would move the staged file into a directory (or one a symbolic link names), and AFTER would lie.
  [ ! -d "$1" ] || fail "$1 is a directory, not a file"
  dir=${1%/*}
  if [ ! -d "$dir" ]; then (umask 022; mkdir -p "$dir") && chmod "$3" "$dir" || fail "cannot create $dir"; fi
  tmp="$dir/.regui-$$-$6.tmp"
  tmps="$tmps $tmp"
  # printf is a shell builtin: the content reaches the file without a process (nor a command line).
  if [ "$5" = b64 ]; then printf '%s' "$4" | base64 -d > "$tmp"; else printf '%s' "$4" > "$tmp"; fi 2>/dev/null \
    || fail "cannot write $tmp"
  path=$1 want=$2 idx=$6 _p=
  if [ "$idx" = 0 ]; then
    # The main file: its newest backup (last in glob order: names sort by time; this push's own copy
    # is not written yet) is hashed in the same call, to know if it already holds the current content
    # (see backup). Only a regular file, not a symbolic link (to the main file itself, say).
    for f in "$path".regui-backup-*; do _p=$f; done
    [ -f "$_p" ] && [ ! -L "$_p" ] || _p=
    pay=$4 enc=$5
  fi
  set -- $(sha256sum "$tmp" "$path" ${_p:+"$_p"} 2>/dev/null)
  [ "$1" = "$want" ] || fail "content of $tmp does not match what was sent"
  # By name: a missing or unreadable file has no line, and the next file's line moves up.
  cur=-; [ "$4" = "$path" ] && cur=$3
  [ -z "$_p" ] || [ "$6" != "$_p" ] || [ "$5" != "$cur" ] || prev=$_p
  say "BEFORE $path $cur"
  eval "c$idx=\$cur; t$idx=\$tmp"
  [ "$cur" = "$want" ] || changed=1
}
# backup PATH: before PATH is replaced, make sure a backup holds what it holds now, and write a copy
# of what replaces it, the next push's backup. In the steady state the newest backup is the copy the
# last push wrote, found by its sha256 (in stage) to hold exactly the current content: nothing to do,
# and no process (a link was one on every node of every push, ~1-2 ms of CPU each). Else (the file
# was never written by regui or was edited since, the copy was cut short or edited, there is none)
# a hard link of the current file: the old file is never written again (its replacement is renamed
# over the name), and a link costs no copy. cp where links are not possible.
backup() {
  b=
  if [ -n "$prev" ]; then say "BACKUP $prev"
  elif [ -f "$1" ]; then
    b="$1.regui-backup-STAMP"
    # A symbolic link is copied: a link of it would hold whatever its target holds later, or nothing.
    # A copy is new data: fsynced before the rename leaves it the only holder of the old content (a
    # link holds the old file itself, already on disk).
    { [ ! -L "$1" ] && ln "$1" "$b" 2>/dev/null; } || { cp "$1" "$b" && { sync "$b" 2>/dev/null || sync; }; } \
      || fail "cannot back up $1"
    say "BACKUP $b"
  fi
  # The copy is named after the link of the same push, so it sorts after it and before any later
  # push's backups. Not fsynced: the push that trusts it checks its sum and fsyncs it first. Written
  # with printf, a builtin (base64 -d for content a shell string cannot hold). Never over a file.
  copy="$1.regui-backup-STAMP.copy"
  if [ -e "$copy" ] || [ -L "$copy" ]; then copy=
  elif [ "$enc" = b64 ]; then printf '%s' "$pay" | base64 -d > "$copy"
  else printf '%s' "$pay" > "$copy"; fi 2>/dev/null || { rm -f "$copy"; copy=; }
}
# prune PATH: one of the backups is a copy of the current content, so KEEP+1 stay: at least KEEP
# earlier contents of the file, plus the current one. The oldest go in one rm once KEEP more have
# gathered: a process every KEEP pushes, not every push (each costs a node ~1 ms of CPU, on every
# node of a push at once).
prune() {
  n=0; for f in "$1".regui-backup-*; do [ -e "$f" ] && n=$((n+1)); done
  [ $n -gt $((2*KEEP)) ] || return 0
  drop=$((n-KEEP-1)) main=$1
  set --
  # Names sort by their UTC timestamp (regui's clock), so the glob lists the oldest first; but never this
  # push's backup and copy: once that clock has gone back, they sort before older ones.
  for f in "$main".regui-backup-*; do
    [ $drop -gt 0 ] || break
    case $f in "$b"|"$copy") continue;; esac
    set -- "$@" "$f"; drop=$((drop-1))
  done
  rm -f "$@"
}
# place PATH TMP SHA [COPY]: the staged file (already fsynced) takes PATH's name in one rename. The
# copy of it written for the next push (see backup) goes if it does not.
place() {
  mv -f "$2" "$1" || { [ -z "$4" ] || rm -f "$4"; fail "cannot replace $1"; }
  say "AFTER $1 $3"
}
"""


# Files regui wrote into its own TLS folder, and nothing else, may be removed once no longer named.
# The folder keeps a manifest of them, "sha256 host/name" a line: relative, so that an entry cannot
# point out of the folder, and with the sum regui wrote, so that a file changed on the node since is
# not regui's any more. Functions below run only in push mode, and only when the service runs the
# new file: until then the running containerd may still read the files the old file named.
_TIDY = r"""
# owned SHA HOST/NAME: sets $f to the file when the entry is one regui may remove (exactly one level
# below $R, no symbolic link on the way); else returns 1 and the entry is ignored.
owned() {
  case $2 in */*) ;; *) return 1;; esac
  _d=${2%%/*} _n=${2#*/}
  case $_d in ''|.|..) return 1;; esac
  case $_n in ''|.|..|*/*) return 1;; esac
  [ -d "$R/$_d" ] && [ ! -L "$R/$_d" ] && [ ! -L "$R" ] || return 1
  f=$R/$_d/$_n
  [ ! -L "$f" ]
}
# Sets $old to the manifest as it is (kept current by manifest_write), $stale to its entries this
# push no longer names, and $carry to those named without being written now.
manifest_read() {
  old= carry= stale=
  [ -f "$M" ] && [ ! -L "$M" ] || return 0
  while read -r s p; do
    [ -n "$p" ] || continue
    old="$old$s $p
"
    if named "$p"; then
      # Named without being written now (the file names it by hand): still regui's file.
      case $new in *" $p
"*) ;; *) carry="$carry$s $p
";; esac
    else stale="$stale$s $p
"
    fi
  done < "$M"
}
manifest_write() {
  if [ -z "$1" ]; then rm -f "$M"; return 0; fi
  mtmp="$M.regui-$$.tmp"
  tmps="$tmps $mtmp"
  if { printf '%s' "$1" > "$mtmp" && mv -f "$mtmp" "$M"; } 2>/dev/null; then old=$1
  else say "WARNING cannot write $M: files regui wrote may stay on the node once no longer named"; fi
}
# tidy: remove what the manifest lists and this push no longer names, if unchanged since written.
tidy() {
  kept=
  while read -r s p; do
    [ -n "$p" ] && owned "$s" "$p" || continue
    if [ ! -f "$f" ]; then rmdir "$R/$_d" 2>/dev/null; continue; fi
    hash_of "$f"
    if [ "$_h" != "$s" ]; then say "KEPT $f"; continue; fi
    if rm -f "$f"; then say "REMOVED $f"; rmdir "$R/$_d" 2>/dev/null; else kept="$kept$s $p
"; fi
  done <<EOF
$stale
EOF
  final="$new$carry$kept"
  [ "$final" = "$old" ] || manifest_write "$final"
  return 0
}
# Not now (the service still runs the old file): say what waits.
tidy_later() {
  while read -r s p; do
    [ -n "$p" ] && owned "$s" "$p" && [ -f "$f" ] && say "STALE $f"
  done <<EOF
$stale
EOF
  return 0
}
"""


# After `systemctl restart`, the waits between `is-active` polls: short first (a unit still
# 'activating' is often active a moment later, and every step of a rolling push waits for its
# slowest node), then POLL_EVERY seconds.
POLL_FIRST = (0.05, 0.1, 0.2)
POLL_EVERY = 0.25


def poll_count(wait_seconds: float) -> int:
    """How many polls (after the first is-active) the waits add up to at least `wait_seconds`."""
    if wait_seconds <= 0:
        return 0
    total, count = 0.0, 0
    for d in POLL_FIRST:
        if total >= wait_seconds:
            return count
        total, count = total + d, count + 1
    return count + max(0, math.ceil(round((wait_seconds - total) / POLL_EVERY, 6)))


def _poll_next() -> str:
    """Shell: the wait after the one in $d."""
    steps = [*POLL_FIRST, POLL_EVERY]
    return "case $d in " + " ".join(f"{a}) d={b};;" for a, b in zip(steps, steps[1:], strict=False)) + " esac"


def _q(value: str) -> str:
    return shlex.quote(value)


def _sq(value: str) -> str:
    """Always single-quoted (shlex.quote leaves a plain path bare)."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _owned_lines(files: list[RemoteFile], owned_dir: str) -> list[str]:
    """The manifest this push writes, and what it names: the files it writes into `owned_dir`
    and any path below it that the main file refers to."""
    root = owned_dir.rstrip("/")
    written = sorted((f.path[len(root) + 1:], f.sha256) for f in files[1:] if f.path.startswith(root + "/"))
    written = [(rel, sha) for rel, sha in written if rel.count("/") == 1]
    text = files[0].content.decode(errors="replace")
    referenced = re.findall(re.escape(root) + r"/([^\s\"'/]+/[^\s\"'/]+)", text)
    names = sorted({rel for rel, _ in written} | set(referenced))
    new = "".join(f"{sha} {rel}\n" for rel, sha in written)
    case = f"case $1 in {'|'.join(_sq(n) for n in names)}) return 0;; esac; " if names else ""
    return [f"R={_sq(root)}", 'M="$R/.regui-manifest"', f"new={_sq(new)}",
            f"named() {{ {case}return 1; }}", "manifest_read"]


def _payload(content: bytes) -> tuple[str, str]:
    """Text goes single-quoted (no decoder process on the node); anything a shell string cannot
    hold exactly (NUL, invalid UTF-8) goes base64-encoded."""
    try:
        text = content.decode()
    except UnicodeDecodeError:
        text = None
    if text is not None and "\0" not in text:
        return shlex.quote(text) if text else "''", "raw"
    return f"'{base64.b64encode(content).decode()}'", "b64"


def push_program(files: list[RemoteFile], *, mode: str, service: str, restart: bool,
                 force_restart: bool = False, wait_seconds: int = 60, owned_dir: str = "",
                 restart_pending: bool = False, stamp_restart: bool = False) -> str:
    """mode "push" writes what differs (and every file marked `force`); mode "check" only reports sums
    (drift check).
    `owned_dir`: regui's own TLS folder, where a push removes the files it wrote earlier and no longer
    names (see _TIDY). `restart_pending`: the service still runs a file older than the node's.
    `stamp_restart`: say when the restart began, by the node's clock (for the Ready gate; a process more)."""
    main_file = files[0]
    tidying = bool(owned_dir) and mode == "push"
    # The backup's timestamp comes from here: one process less on every node.
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    lines = [_PRELUDE.replace("KEEP", str(BACKUPS_KEPT)).replace("STAMP", stamp)]
    if tidying:
        lines += [_TIDY, *_owned_lines(files, owned_dir)]
    if mode == "check":
        lines += [f"check {_q(f.path)} {f.sha256}" for f in files]
        lines.append("say RESULT checked")
        lines.append("return 0")
    else:
        for i, f in enumerate(files):
            payload, encoding = _payload(f.content)
            lines.append(f"stage {_q(f.path)} {f.sha256} {f.dir_mode} {payload} {encoding} {i}")
            if f.force:
                lines.append("changed=1")
        lines.append("if [ $changed = 0 ]; then rm -f $tmps; say 'RESULT unchanged'; else")
        # One fsync call for every staged file, then renames: the main file last, so TLS
        # material is in place before the config that names it.
        # The backup found to hold the main file's current content (see backup) was not fsynced when
        # written: it is now, in the same call, before the rename leaves it the only copy of that content.
        lines.append('  sync $tmps ${prev:+"$prev"} 2>/dev/null || sync')
        if tidying:
            # Listed before they are placed: a push cut short still knows the files it wrote.
            lines.append('  [ -z "$new" ] || [ "$old" = "$new" ] || manifest_write "$old$new"')
        for i, f in [*list(enumerate(files))[1:], (0, main_file)]:
            if f is main_file:
                path = _q(f.path)
                write = f'backup {path}; place {path} "$t{i}" {f.sha256} "$copy"; prune {path}'
            else:
                write = f'place {_q(f.path)} "$t{i}" {f.sha256}'
            if f.force:
                lines.append(f"  {write}")
            else:
                lines.append(f'  if [ "$c{i}" != {f.sha256} ]; then {write}; else rm -f "$t{i}"; fi')
        lines.append("  say 'RESULT changed'")
        lines.append("fi")
        if restart:
            condition = "true" if force_restart else '[ $changed = 1 ]'
            unit = _q(service)
            lines.append(f"""if {condition}; then
  say "RESTART {service}{' $(date +%s)' if stamp_restart else ''}"; flush
  systemctl restart {unit} || {{ say "ERROR systemctl restart {service} failed"; exit 4; }}
  i=0; d={POLL_FIRST[0]}; state=$(systemctl is-active {unit} 2>/dev/null)
  while [ "$state" != active ] && [ $i -lt {poll_count(wait_seconds)} ]; do
    sleep $d; i=$((i+1)); {_poll_next()}
    state=$(systemctl is-active {unit} 2>/dev/null)
  done
  say "ACTIVE $state"
  [ "$state" = active ] || {{ say "ERROR {service} is $state, not active, {wait_seconds} s after the restart"; exit 5; }}
fi""")
    if tidying:
        # Reached only when the service runs the new file (restarted, or nothing to restart for).
        if restart:
            lines.append("tidy")
        elif not restart_pending:
            lines.append("if [ $changed = 0 ]; then tidy; else tidy_later; fi")
        else:
            lines.append("tidy_later")
    lines.append("}")
    lines.append("main")
    return "\n".join(lines) + "\n"


def read_program(path: str) -> str:
    """Print one file (for "Import from node"), or say it is missing."""
    return f"main() {{\nif [ -f {_q(path)} ]; then cat {_q(path)}; else echo 'REGUI-MISSING' >&2; exit 2; fi\n}}\nmain\n"
