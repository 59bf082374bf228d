"""The shell program a push runs on a node, run here with `sh` against a temp directory."""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from regui.remote.report import parse_report
from regui.remote.script import RemoteFile, push_program


def sh_node(tmp_path: Path):
    """Runs a program in `sh -s` with a fake systemctl (which logs its calls) first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "systemctl.log"
    fake = bin_dir / "systemctl"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n[ "$1" = is-active ] && echo "${{STATE:-active}}"\n'
                    '[ "$1" = restart ] && [ -n "$RESTART_FAILS" ] && exit 1\nexit 0\n')
    fake.chmod(0o755)

    def run(program: str, **env):
        e = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", **env}
        return subprocess.run(["sh", "-s"], input=program, capture_output=True, text=True, env=e, timeout=30)

    run.root, run.log = tmp_path, log
    return run


@pytest.fixture
def node(tmp_path):
    return sh_node(tmp_path)


def files(root: Path, yaml: bytes = b"mirrors: {}\n", key: bytes = b"KEY") -> list[RemoteFile]:
    return [RemoteFile(str(root / "etc/rancher/k3s/registries.yaml"), yaml, "0755"),
            RemoteFile(str(root / "tls/reg.example.com/tls.key"), key)]


def test_the_first_push_writes_0600_files_and_restarts(node):
    fs = files(node.root)
    out = node(push_program(fs, mode="push", service="k3s", restart=True, wait_seconds=2))
    report = parse_report(out.stdout)
    assert out.returncode == 0, out.stdout + out.stderr
    assert report.result == "changed" and report.restarted and report.active == "active"
    main = Path(fs[0].path)
    assert main.read_bytes() == b"mirrors: {}\n"
    assert stat.S_IMODE(main.stat().st_mode) == 0o600
    assert stat.S_IMODE(main.parent.stat().st_mode) == 0o755
    assert stat.S_IMODE(Path(fs[1].path).parent.stat().st_mode) == 0o700
    assert report.after[fs[0].path] == fs[0].sha256
    assert "restart k3s" in node.log.read_text()


def test_a_file_marked_force_is_written_and_counts_as_a_change_though_the_node_has_it_already(node):
    # regui forces a node it did not write the secret values to: equal bytes must not say "unchanged".
    fs = files(node.root)
    node(push_program(fs, mode="push", service="k3s", restart=True, wait_seconds=2))
    inode = Path(fs[0].path).stat().st_ino
    forced = [replace(f, force=True) for f in fs]
    report = parse_report(node(push_program(forced, mode="push", service="k3s", restart=True, wait_seconds=2)).stdout)
    assert report.result == "changed" and report.restarted
    assert set(report.after) == {fs[0].path, fs[1].path} and report.before == report.after
    assert Path(fs[0].path).read_bytes() == b"mirrors: {}\n" and Path(fs[0].path).stat().st_ino != inode
    assert node.log.read_text().count("restart k3s") == 2


def test_a_second_push_is_unchanged_and_does_not_restart(node):
    fs = files(node.root)
    node(push_program(fs, mode="push", service="k3s", restart=True, wait_seconds=2))
    node.log.unlink()
    report = parse_report(node(push_program(fs, mode="push", service="k3s", restart=True)).stdout)
    assert report.result == "unchanged" and not report.restarted and not node.log.exists()


def test_write_only_does_not_restart(node):
    report = parse_report(node(push_program(files(node.root), mode="push", service="k3s", restart=False)).stdout)
    assert report.result == "changed" and not report.restarted and not node.log.exists()


def test_a_failed_restart_is_reported(node):
    out = node(push_program(files(node.root), mode="push", service="k3s-agent", restart=True), RESTART_FAILS="1")
    assert out.returncode == 4 and "systemctl restart k3s-agent failed" in parse_report(out.stdout).error


def test_a_service_that_does_not_become_active_is_reported(node):
    out = node(push_program(files(node.root), mode="push", service="k3s", restart=True, wait_seconds=1),
               STATE="failed")
    assert out.returncode == 5 and "is failed, not active" in parse_report(out.stdout).error


def test_a_program_cut_short_runs_nothing(node):
    program = push_program(files(node.root), mode="push", service="k3s", restart=True)
    for cut in (len(program) // 3, len(program) - 6):
        out = node(program[:cut])
        assert "RESULT" not in out.stdout and not (node.root / "etc").exists()


def test_check_mode_only_reports(node):
    fs = files(node.root)
    report = parse_report(node(push_program(fs, mode="check", service="k3s", restart=True)).stdout)
    assert report.result == "checked" and report.before[fs[0].path] == "-"
    assert not (node.root / "etc").exists()


def test_content_goes_through_a_shell_builtin_not_a_command_line(node):
    program = push_program(files(node.root, key=b"super-secret-key-material"), mode="push", service="k3s",
                           restart=False)
    # The program travels on stdin of `sh -s`; inside it, printf (a builtin) writes the content.
    assert "printf '%s' \"$4\" > \"$tmp\"" in program
    assert "cat " not in program and "echo " not in program


@pytest.mark.parametrize("content", [
    b"quotes ' \" $HOME `id` $(id) \\ \n\ttabs\n", b"no trailing newline", b"", "ünïcødé ✓\n".encode(),
    b"\x00binary\xff\xfe", b"'" * 50,
])
def test_any_content_lands_byte_for_byte(node, content):
    fs = [RemoteFile(str(node.root / "etc/rancher/k3s/registries.yaml"), content, "0755")]
    out = node(push_program(fs, mode="push", service="k3s", restart=False))
    assert out.returncode == 0, out.stdout + out.stderr
    assert Path(fs[0].path).read_bytes() == content


def test_its_tools_run_in_the_c_locale_whatever_the_node_sets(node):
    # A fake `sync` (first on PATH) records the locale the program gives the tools it runs.
    seen = node.root / "locale.txt"
    fake = node.root / "bin" / "sync"
    fake.write_text(f'#!/bin/sh\necho "$LC_ALL" > {seen}\n')
    fake.chmod(0o755)
    out = node(push_program(files(node.root), mode="push", service="k3s", restart=False),
               LANG="de_DE.UTF-8", LC_ALL="de_DE.UTF-8")
    assert out.returncode == 0, out.stdout + out.stderr
    assert seen.read_text() == "C\n"


def test_it_says_it_restarts_before_the_restart_ends_and_reports_the_rest_after(node):
    # The fake systemctl's restart waits for a file the test makes only once it has read RESTART.
    gate = node.root / "restart-may-end"
    fake = node.root / "bin" / "systemctl"
    # (It gives up after ~10 s, so a program that holds RESTART back fails the test instead of hanging it.)
    fake.write_text(f'#!/bin/sh\ni=0\n[ "$1" = restart ] && while [ ! -e {gate} ] && [ $i -lt 1000 ]; do '
                    'sleep 0.01; i=$((i+1)); done\n'
                    '[ "$1" = is-active ] && echo active\nexit 0\n')
    env = {**os.environ, "PATH": f"{node.root / 'bin'}:{os.environ['PATH']}"}
    program = push_program(files(node.root), mode="push", service="k3s", restart=True, wait_seconds=2)
    with subprocess.Popen(["sh", "-s"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(program)
        proc.stdin.close()
        before = []
        while not (line := proc.stdout.readline()).startswith("RESTART"):
            assert line, "the program ended without saying RESTART"
            before.append(line)
        assert not gate.exists() and proc.poll() is None  # the restart is still going on
        gate.touch()
        after = proc.stdout.read()
    assert proc.returncode == 0
    assert any(line.startswith("RESULT changed") for line in before)
    assert after == "ACTIVE active\n"


def test_a_failure_still_reports_everything_said_before_it(node):
    node.root.joinpath("etc/rancher/k3s").mkdir(parents=True)
    node.root.joinpath("etc/rancher/k3s/registries.yaml").write_text("old\n")
    out = node(push_program(files(node.root), mode="push", service="k3s", restart=True), RESTART_FAILS="1")
    report = parse_report(out.stdout)
    assert out.returncode == 4
    assert report.result == "changed" and report.backup and report.before and report.after
    assert report.error == "systemctl restart k3s failed"


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("kind", ["directory", "symbolic link to a directory"])
def test_a_file_whose_path_is_a_directory_fails_the_push_and_nothing_is_moved_into_it(node, which, kind):
    # `mv -f tmp dir` would move the staged file into the directory and the report would say it was placed.
    fs = files(node.root)
    path = Path(fs[which].path)
    path.parent.mkdir(parents=True)
    if kind == "directory":
        path.mkdir()
    else:
        path.with_name("elsewhere").mkdir()
        path.symlink_to("elsewhere")
    out = node(push_program(fs, mode="push", service="k3s", restart=True))
    report = parse_report(out.stdout)
    assert out.returncode == 3 and report.error == f"{path} is a directory, not a file"
    assert not report.after and not report.restarted and not list(path.iterdir())
    assert not list(node.root.rglob(".regui-*.tmp"))
