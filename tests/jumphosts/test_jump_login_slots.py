"""Logins to one jump host in progress at once are bounded per machine, not per process (ssh.Jump.places_dir,
regui/remote/places.py): a worker's processes hold places in files under REGUI_DATA_DIR with flock, so
a push spread over them never has more than REGUI_JUMP_HANDSHAKES half-open logins on the bastion. Real
processes (Python children of the test) log in through an in-process jump host (tests/fakes/sshd.py),
which counts the logins in progress."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from regui.remote import jump as jumping
from regui.remote import ssh
from tests.fakes.sshd import Listening, Server, sshd
from tests.procs import ROOT
from tests.threads import errors_in_threads

# A child process: `hold` takes a place to log in to the jump host and keeps it `seconds`; `connect`
# logs in to `count` nodes through the jump host at once (threads), each running one command.
CHILD = """
import json, sys, threading, time
from regui.remote import jump as jumping, ssh

a = json.loads(sys.argv[1])
via = ssh.Jump("bastion-1", ssh.Target("127.0.0.1", a["port"], "jumper", ssh.HostKey(*a["jump_key"]),
               password="jump-pw"), handshakes=a["handshakes"], places_dir=a["places_dir"])
if a["do"] == "hold":
    with jumping._login_place(via, 30):
        print("held", flush=True)
        time.sleep(a["seconds"])
else:
    print("ready", flush=True)
    sys.stdin.readline()  # all the processes start their logins at once
    start = threading.Barrier(a["count"])
    failed = []

    def one(i):
        target = ssh.Target(f"n{a['first'] + i}.invalid", 22, "root", ssh.HostKey(*a["node_key"]),
                            password="node-pw", jump=via)
        try:
            start.wait()
            transport = jumping.connect(target, timeout=10, retries=1)
            try:
                assert ssh.run(transport, "echo", timeout=10).stdout == "fine\\n"
            finally:
                transport.close()
        except BaseException as exc:
            failed.append(repr(exc))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(a["count"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(failed), flush=True)
"""


def child(jump: Listening, places_dir: Path | str, handshakes: int, **args) -> subprocess.Popen[str]:
    spec = {"port": jump.port, "jump_key": [jump.pinned.type, jump.pinned.key], "handshakes": handshakes,
            "places_dir": str(places_dir), **args}
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


@contextmanager
def holding(jump: Listening, places_dir: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """A child process that holds the jump host's only place (handshakes=1) for `seconds`, once it does."""
    with child(jump, places_dir, 1, do="hold", seconds=seconds) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline() == "held\n"
            yield proc
        finally:
            proc.kill()  # (gone already: nothing happens)


def bastion(jump: Listening, places_dir: Path | str, handshakes: int) -> ssh.Jump:
    return ssh.Jump("bastion-1", ssh.Target("127.0.0.1", jump.port, "jumper", jump.pinned, password="jump-pw"),
                    handshakes=handshakes, places_dir=str(places_dir))


def behind(jump: Listening, node: Listening, via: ssh.Jump, i: int = 0) -> ssh.Target:
    jump.server.routes[(f"n{i}.invalid", 22)] = ("127.0.0.1", node.port)
    return ssh.Target(f"n{i}.invalid", 22, "root", node.pinned, password="node-pw", jump=via, name=f"n{i}")


def connect_from_processes(jump: Listening, node: Listening, places_dir: Path | str, processes: int, each: int,
                           handshakes: int) -> None:
    for i in range(processes * each):
        jump.server.routes[(f"n{i}.invalid", 22)] = ("127.0.0.1", node.port)
    procs = [child(jump, places_dir, handshakes, do="connect", count=each, first=p * each,
                   node_key=[node.pinned.type, node.pinned.key]) for p in range(processes)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0 and json.loads(out) == [], out


def connect_in_threads(targets: list[ssh.Target], timeout: float) -> list[BaseException]:
    return errors_in_threads(lambda target: jumping.connect(target, timeout=timeout, retries=1).close(), targets)


def test_three_processes_logging_in_at_once_keep_at_most_the_bound_of_logins_in_progress_on_the_jump_host(tmp_path):
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw", login_delay=0.2)) as jump:
        connect_from_processes(jump, node, tmp_path / "places", processes=3, each=6, handshakes=3)
        assert len(jump.server.logins) == 18 and len(node.server.logins) == 18
        assert 1 <= jump.server.most_unauthenticated <= 3, jump.server.most_unauthenticated
    assert sorted(os.listdir(tmp_path / "places" / f"127.0.0.1_{jump.port}")) == ["0", "1", "2"]


def test_without_a_folder_each_process_counts_its_own_and_they_pile_up_on_the_jump_host():
    # What the folder prevents: the count measures what it should.
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw", login_delay=0.2)) as jump:
        connect_from_processes(jump, node, "", processes=3, each=6, handshakes=3)
        assert jump.server.most_unauthenticated > 3, jump.server.most_unauthenticated


def test_a_waiting_login_gives_up_at_its_timeout_naming_the_jump_host(tmp_path):
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw")) as jump:
        with holding(jump, tmp_path, seconds=30):
            target = behind(jump, node, bastion(jump, tmp_path, 1))
            began = time.monotonic()
            with pytest.raises(ssh.Unreachable) as caught:
                jumping.connect(target, timeout=0.5, retries=3)
            waited = time.monotonic() - began
        assert jump.server.transports == []  # it never connected
    assert 0.5 <= waited < 2, waited  # not retried: it waited already
    assert caught.value.hop == "jump"
    assert str(caught.value) == (f"jump host bastion-1 (127.0.0.1:{jump.port}): no place to log in: for 0.5 s none of "
                                 "the logins to it in progress from this machine ended (at most 1 at once: "
                                 "REGUI_JUMP_HANDSHAKES)")


def test_a_killed_holder_gives_its_place_back(tmp_path):
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw")) as jump:
        target = behind(jump, node, bastion(jump, tmp_path, 1))
        with holding(jump, tmp_path, seconds=60) as holder:
            with pytest.raises(ssh.Unreachable, match="no place to log in"):
                jumping.connect(target, timeout=0.3, retries=1)
            os.kill(holder.pid, signal.SIGKILL)  # no chance to let go itself: the kernel does
            holder.wait()
            began = time.monotonic()
            jumping.connect(target, timeout=5, retries=1).close()
            assert time.monotonic() - began < 2
        assert jump.server.logins == ["jumper"]


def test_a_queue_that_moves_is_waited_through_past_the_timeout_and_the_login_still_has_all_of_it(tmp_path):
    # Another process holds the only place for 1 s; two logins here taking 0.8 s each queue behind it:
    # the second starts after ~1.8 s, past its 1.5 s timeout, as places kept changing hands meanwhile.
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw", login_delay=0.8)) as jump:
        via = bastion(jump, tmp_path, 1)
        with holding(jump, tmp_path, seconds=1):
            began = time.monotonic()
            errors = connect_in_threads([behind(jump, node, via, i) for i in range(2)], timeout=1.5)
            took = time.monotonic() - began
        assert errors == [] and len(jump.server.logins) == 2
        assert jump.server.most_unauthenticated == 1
    assert took > 2.5, took


def test_an_unusable_folder_falls_back_to_a_bound_per_process_with_one_warning(tmp_path, caplog):
    in_the_way = tmp_path / "data"
    in_the_way.write_text("a file where the folder should be\n")
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw", login_delay=0.05)) as jump:
        via = bastion(jump, in_the_way / "locks" / "jump", 2)
        with caplog.at_level(logging.WARNING, logger="regui.remote.places"):
            for _ in range(2):
                assert connect_in_threads([behind(jump, node, via, i) for i in range(6)], timeout=10) == []
        assert len(jump.server.logins) == 12
        assert 1 <= jump.server.most_unauthenticated <= 2, jump.server.most_unauthenticated
    [warning] = [r for r in caplog.records if r.name == "regui.remote.places"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (
        f"cannot count logins to jump host bastion-1 (127.0.0.1:{jump.port}) across processes in "
        f"{in_the_way}/locks/jump/127.0.0.1_{jump.port} (Not a directory): counting them in each process only, "
        "so several processes together may have more at once")


def test_jump_hosts_of_regui_count_their_logins_in_the_data_folder(settings, tmp_path):
    from regui.inventory.credentials.models import SharedCredential
    from regui.inventory.jumphosts.models import JumpHost
    from regui.inventory.jumphosts.routing import jump_ssh

    assert Path(settings.REGUI_JUMP_PLACES_DIR) == Path(settings.DATA_DIR) / "locks" / "jump"
    settings.REGUI_JUMP_PLACES_DIR = tmp_path / "locks" / "jump"
    credential = SharedCredential(name="bastion-pw", kind=SharedCredential.Kind.PASSWORD)
    credential.seal_value("jump-pw")
    jump = JumpHost(name="bastion-1", address="10.0.0.5", port=22, ssh_user="jumper", credential=credential)
    assert jump_ssh(jump).places_dir == str(tmp_path / "locks" / "jump")
