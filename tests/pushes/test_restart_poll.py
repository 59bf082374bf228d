"""After `systemctl restart`, the node program polls `is-active` soon, then every 0.25 s, for the wait
it was given: a unit still 'activating' for a moment does not cost a whole 0.25 s on every step of a
rolling push. Run here with `sh`, a fake systemctl and a fake `sleep` that records its waits."""

from __future__ import annotations

import os
import subprocess

import pytest

from regui.remote.report import parse_report
from regui.remote.script import RemoteFile, poll_count, push_program


@pytest.fixture
def node(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls, sleeps = tmp_path / "is-active.count", tmp_path / "sleeps"
    # 'activating' for the first $ACTIVATING is-active calls, then active ('never' stays activating).
    (bin_dir / "systemctl").write_text(
        f'#!/bin/sh\n[ "$1" = is-active ] || exit 0\necho x >> {calls}\nn=$(wc -l < {calls})\n'
        'if [ "$ACTIVATING" = never ] || [ "$n" -le "$ACTIVATING" ]; then echo activating; exit 3; fi\n'
        'echo active\n')
    (bin_dir / "sleep").write_text(f'#!/bin/sh\necho "$1" >> {sleeps}\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)

    def run(activating: str, wait_seconds: float):
        program = push_program([RemoteFile(str(tmp_path / "etc/registries.yaml"), b"mirrors: {}\n", "0755")],
                               mode="push", service="k3s", restart=True, wait_seconds=wait_seconds)
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "ACTIVATING": activating}
        out = subprocess.run(["sh", "-s"], input=program, capture_output=True, text=True, env=env, timeout=30)
        waits = [float(w) for w in sleeps.read_text().split()] if sleeps.exists() else []
        return out, waits

    return run


def test_an_active_unit_is_reported_without_any_wait(node):
    out, waits = node("0", wait_seconds=30)
    assert out.returncode == 0 and parse_report(out.stdout).active == "active"
    assert waits == []


def test_a_unit_activating_for_a_moment_is_polled_again_after_50_ms(node):
    out, waits = node("2", wait_seconds=30)
    assert out.returncode == 0 and parse_report(out.stdout).active == "active"
    assert waits == [0.05, 0.1]


def test_the_polls_slow_to_every_quarter_second_and_last_the_whole_wait(node):
    out, waits = node("never", wait_seconds=2)
    assert out.returncode == 5 and "k3s is activating, not active, 2 s after the restart" in parse_report(out.stdout).error
    assert waits[:4] == [0.05, 0.1, 0.2, 0.25] and set(waits[3:]) == {0.25}
    assert 2 <= sum(waits) < 2 + 0.25


@pytest.mark.parametrize("wait_seconds", [0.05, 0.3, 1, 2, 30, 60, 600])
def test_the_poll_count_covers_the_wait_and_no_more(wait_seconds):
    schedule = [0.05, 0.1, 0.2] + [0.25] * 3000
    polls = poll_count(wait_seconds)
    assert sum(schedule[:polls]) >= wait_seconds - 1e-9
    assert sum(schedule[:polls - 1]) < wait_seconds


def test_no_wait_means_one_look(node):
    out, waits = node("never", wait_seconds=0)
    assert out.returncode == 5 and waits == [] and poll_count(0) == 0
