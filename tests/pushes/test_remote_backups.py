"""The backups a push keeps of the main file on a node, run here with `sh` against a temp directory.

A push writes a copy of what it writes (`<file>.regui-backup-<stamp>.copy`); the next push finds it holds
the current content by its sha256 and needs no backup of its own. Otherwise (no copy, or not the current
content) the current file is hard-linked as `<file>.regui-backup-<stamp>`.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from regui.remote.report import parse_report
from regui.remote.script import BACKUPS_KEPT, RemoteFile, push_program
from tests.pushes.test_remote_program import files, sh_node

TOOLS = ("sha256sum", "sync", "ln", "cp", "mv", "rm", "base64", "mkdir", "chmod", "date")


@pytest.fixture
def node(tmp_path):
    return sh_node(tmp_path)


def main_of(node) -> Path:
    return node.root / "etc/rancher/k3s/registries.yaml"


def backups(node) -> list[Path]:
    return sorted(main_of(node).parent.glob("registries.yaml.regui-backup-*"))


def push(node, content: bytes, **env):
    """Pushes the main file alone (a TLS file unchanged costs an rm of its staged copy)."""
    fs = [RemoteFile(str(main_of(node)), content, "0755")]
    out = node(push_program(fs, mode="push", service="k3s", restart=False), **env)
    assert out.returncode == 0, out.stdout + out.stderr
    return parse_report(out.stdout)


def shim(node, tool: str, body: str) -> None:
    """`tool`, first on the node's PATH, replaced by this shell script."""
    path = node.root / "bin" / tool
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def log_tools(node) -> Path:
    """Every external tool the program may run, shimmed first on PATH to log its name, then run."""
    log = node.root / "tools.log"
    for tool in TOOLS:
        shim(node, tool, f'echo {tool} >> {log}\nexec {shutil.which(tool)} "$@"')
    return log


def tools_run(log: Path) -> list[str]:
    tools = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return tools


def test_a_push_writes_a_0600_copy_of_what_it_wrote_and_reports_no_backup_when_there_was_no_file(node):
    report = push(node, b"# one\n")
    [copy] = backups(node)
    assert copy.name.endswith(".copy") and copy.read_bytes() == b"# one\n"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert copy.stat().st_ino != main_of(node).stat().st_ino, "a copy, not a link"
    assert report.backup == ""


def test_the_second_changed_push_runs_no_ln_only_sha256sum_sync_and_mv(node):
    log = log_tools(node)
    push(node, b"# one\n")
    tools_run(log)
    report = push(node, b"# two\n")
    assert tools_run(log) == ["sha256sum", "sync", "mv"]
    assert Path(report.backup).read_bytes() == b"# one\n" and report.backup.endswith(".copy")


def test_an_unchanged_push_writes_no_copy(node):
    push(node, b"# one\n")
    before = backups(node)
    report = push(node, b"# one\n")
    assert report.result == "unchanged" and backups(node) == before


def test_the_previous_content_survives_byte_for_byte_after_every_push(node):
    # Line endings, quotes, no trailing newline, invalid UTF-8 (sent base64-encoded): each one exactly.
    versions = [f"# version {i}\r\n'\"$x`\\".encode() + (b"\xff" if i % 3 == 0 else b"\n") for i in range(13)]
    push(node, versions[0])
    for i in range(1, 13):
        report = push(node, versions[i])
        assert Path(report.backup).read_bytes() == versions[i - 1], f"push {i + 1}"
        held = [b.read_bytes() for b in backups(node)]
        assert all(v in held for v in versions[max(0, i - BACKUPS_KEPT):i]), f"push {i + 1}"
        assert main_of(node).read_bytes() == versions[i]


def test_the_first_push_over_a_file_regui_did_not_write_backs_it_up_by_a_hard_link(node):
    main = main_of(node)
    main.parent.mkdir(parents=True)
    main.write_bytes(b"# by hand\n")
    old_inode = main.stat().st_ino
    report = push(node, b"# new\n")
    link, copy = backups(node)
    assert report.backup == str(link) and not link.name.endswith(".copy")
    assert link.stat().st_ino == old_inode and link.read_bytes() == b"# by hand\n"
    assert copy.name == link.name + ".copy" and copy.read_bytes() == b"# new\n"
    assert main.read_bytes() == b"# new\n" and main.stat().st_ino != old_inode


def test_a_file_edited_by_hand_since_the_last_push_is_backed_up_by_a_link(node):
    log = log_tools(node)
    push(node, b"# one\n")
    main_of(node).write_bytes(b"# edited by hand\n")
    tools_run(log)
    report = push(node, b"# two\n")
    assert "ln" in tools_run(log)
    assert Path(report.backup).read_bytes() == b"# edited by hand\n"
    assert [b.read_bytes() for b in backups(node)] == [b"# one\n", b"# edited by hand\n", b"# two\n"]


@pytest.mark.parametrize("spoil", ["truncated", "corrupted", "emptied"])
def test_a_newest_copy_that_no_longer_holds_the_content_is_not_trusted(node, spoil):
    log = log_tools(node)
    push(node, b"# one, a longer line\n")
    [copy] = backups(node)
    spoilt = {"truncated": b"# one, a lo", "corrupted": b"# one, a LONGER line\n", "emptied": b""}
    copy.write_bytes(spoilt[spoil])
    tools_run(log)
    report = push(node, b"# two\n")
    assert "ln" in tools_run(log)
    assert Path(report.backup).read_bytes() == b"# one, a longer line\n" and report.backup != str(copy)


def test_a_newest_copy_that_is_a_symbolic_link_to_the_file_is_not_trusted(node):
    push(node, b"# one\n")
    [copy] = backups(node)
    copy.unlink()
    copy.symlink_to(main_of(node))  # same sum as the file, but gone with it once replaced
    report = push(node, b"# two\n")
    assert report.backup != str(copy) and Path(report.backup).read_bytes() == b"# one\n"
    assert not Path(report.backup).is_symlink()


def test_a_newest_backup_that_is_a_directory_does_not_break_the_push(node):
    push(node, b"# one\n")
    main_of(node).with_name("registries.yaml.regui-backup-99991231T235959.999999Z").mkdir()
    report = push(node, b"# two\n")
    assert report.result == "changed" and Path(report.backup).read_bytes() == b"# one\n"
    assert main_of(node).read_bytes() == b"# two\n"


def test_it_copies_the_backup_where_hard_links_fail(node):
    shim(node, "ln", "exit 1")
    main = main_of(node)
    main.parent.mkdir(parents=True)
    main.write_bytes(b"# old\n")
    old_inode = main.stat().st_ino
    report = push(node, b"# new\n")
    backup = Path(report.backup)
    assert backup.read_bytes() == b"# old\n" and stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert backup.stat().st_ino != old_inode, "a copy, not a link"
    assert main.read_bytes() == b"# new\n"


def test_a_backup_made_by_cp_is_fsynced_before_the_rename(node):
    shim(node, "ln", "exit 1")
    calls = node.root / "calls.log"
    for tool in ("sync", "mv"):
        shim(node, tool, f'echo {tool} "$@" >> {calls}\nexec {shutil.which(tool)} "$@"')
    main = main_of(node)
    main.parent.mkdir(parents=True)
    main.write_bytes(b"# old\n")
    report = push(node, b"# new\n")
    seen = calls.read_text().splitlines()
    assert f"sync {report.backup}" in seen, seen
    assert seen.index(f"sync {report.backup}") < next(i for i, c in enumerate(seen) if c.startswith("mv ")), seen


def test_a_failed_rename_leaves_no_copy_of_content_that_never_landed(node):
    push(node, b"# one\n")
    shim(node, "mv", "exit 1")
    fs = [RemoteFile(str(main_of(node)), b"# two\n", "0755")]
    out = node(push_program(fs, mode="push", service="k3s", restart=False))
    assert out.returncode == 3 and "cannot replace" in parse_report(out.stdout).error
    assert [b.read_bytes() for b in backups(node)] == [b"# one\n"]
    assert main_of(node).read_bytes() == b"# one\n"


def test_tls_files_get_no_backups(node):
    push(node, b"# one\n")
    fs = files(node.root, yaml=b"# two\n", key=b"KEY2")
    assert node(push_program(fs, mode="push", service="k3s", restart=False)).returncode == 0
    assert not list((node.root / "tls").rglob("*regui-backup*"))


def test_it_keeps_every_backup_until_eleven_have_gathered(node):
    for i in range(2 * BACKUPS_KEPT):
        push(node, f"# version {i}\n".encode())
    assert [b.read_bytes() for b in backups(node)] == [f"# version {i}\n".encode() for i in range(10)]
    assert all(stat.S_IMODE(b.stat().st_mode) == 0o600 for b in backups(node))


def test_the_eleventh_removes_all_but_five_earlier_contents_and_the_current_one_in_one_rm(node):
    log = log_tools(node)
    for i in range(2 * BACKUPS_KEPT + 1):
        push(node, f"# version {i}\n".encode())
        assert tools_run(log).count("rm") == (1 if i == 2 * BACKUPS_KEPT else 0), f"push {i + 1}"
    assert [b.read_bytes() for b in backups(node)] == [f"# version {i}\n".encode() for i in range(5, 11)]
    assert main_of(node).read_bytes() == b"# version 10\n"


def test_after_many_pushes_at_least_five_earlier_contents_and_the_current_one_are_kept(node):
    for i in range(30):
        push(node, f"# version {i}\n".encode())
        held = [b.read_bytes() for b in backups(node)]
        assert all(f"# version {k}\n".encode() in held for k in range(max(0, i - BACKUPS_KEPT), i + 1)), i
        assert len(held) <= 2 * BACKUPS_KEPT + 1


def test_a_binary_file_gets_a_copy_too_and_the_next_push_trusts_it(node):
    log = log_tools(node)
    fs = [RemoteFile(str(main_of(node)), b"\x00\xff binary\n", "0755")]
    assert node(push_program(fs, mode="push", service="k3s", restart=False)).returncode == 0
    tools_run(log)
    report = push(node, b"# text\n")
    assert "ln" not in tools_run(log) and Path(report.backup).read_bytes() == b"\x00\xff binary\n"


def test_the_copy_trusted_as_the_backup_is_fsynced_with_the_staged_file_in_one_sync(node):
    # The copy was not fsynced when written: before the rename leaves it the only holder of that content.
    push(node, b"# one\n")
    [copy] = backups(node)
    seen = node.root / "sync.args"
    shim(node, "sync", f'echo "$@" >> {seen}')
    push(node, b"# two\n")
    [args] = seen.read_text().splitlines()
    staged, trusted = args.split()
    assert staged.endswith(".tmp") and trusted == str(copy)


def test_the_backup_a_push_makes_is_not_pruned_when_older_backups_are_named_after_it(node):
    # Names sort by regui's clock: once it goes back (corrected, or another worker's lags), this push's
    # backup sorts first. It is the only copy of what the file held, and the report names it.
    main = main_of(node)
    main.parent.mkdir(parents=True)
    main.write_bytes(b"# current\n")
    for i in range(2 * BACKUPS_KEPT):
        main.with_name(f"registries.yaml.regui-backup-20991231T2359{i:02d}.000000Z").write_bytes(b"# older\n")
    report = push(node, b"# new\n")
    assert Path(report.backup).read_bytes() == b"# current\n"
    assert Path(report.backup + ".copy").read_bytes() == b"# new\n"


def test_a_file_that_is_a_symbolic_link_is_backed_up_by_a_copy_of_what_it_held(node):
    # A hard link of the link would be a link too: its content whatever the target holds later, or none.
    main = main_of(node)
    main.parent.mkdir(parents=True)
    target = main.with_name("managed.yaml")
    target.write_bytes(b"# by hand\n")
    main.symlink_to(target.name)
    report = push(node, b"# new\n")
    target.write_bytes(b"# changed later\n")
    backup = Path(report.backup)
    assert not backup.is_symlink() and backup.read_bytes() == b"# by hand\n"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert main.read_bytes() == b"# new\n"
