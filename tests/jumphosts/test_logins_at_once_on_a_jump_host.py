"""Logins to one jump host in progress at once are bounded (ssh.Jump.handshakes, REGUI_JUMP_HANDSHAKES):
each node connection logs in to the jump host, and a stock sshd drops unauthenticated connections at
random beyond `MaxStartups 10`. In-process paramiko servers (tests/fakes/sshd.py) count them."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from regui.remote import jump as jumping
from regui.remote import ssh
from tests.fakes.sshd import Listening, Server, sshd
from tests.threads import errors_in_threads


def connect_at_once(jump: Listening, node: Listening, count: int, handshakes: int) -> list[BaseException]:
    """`count` nodes behind the jump host connect at once, run a command and close; the errors."""
    via = ssh.Jump("bastion-1", ssh.Target("127.0.0.1", jump.port, "jumper", jump.pinned, password="jump-pw"),
                   handshakes=handshakes)
    targets = []
    for i in range(count):
        jump.server.routes[(f"n{i}.invalid", 22)] = ("127.0.0.1", node.port)
        targets.append(ssh.Target(f"n{i}.invalid", 22, "root", node.pinned, password="node-pw", jump=via, name=f"n{i}"))
    start = threading.Barrier(count)

    def one(target: ssh.Target) -> None:
        start.wait()
        transport = jumping.connect(target, timeout=10, retries=1)
        try:
            assert ssh.run(transport, "echo", timeout=10).stdout == "fine\n"
        finally:
            transport.close()

    return errors_in_threads(one, targets)


def test_thirty_nodes_connecting_at_once_keep_at_most_the_bound_of_logins_in_progress_on_the_jump_host():
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw", login_delay=0.05)) as jump:
        assert connect_at_once(jump, node, 30, handshakes=8) == []
        assert len(jump.server.logins) == 30 and len(node.server.logins) == 30
        assert 1 <= jump.server.most_unauthenticated <= 8, jump.server.most_unauthenticated


def test_without_a_tight_bound_the_same_nodes_pile_up_unauthenticated_on_the_jump_host():
    # What the bound above prevents: the count measures what it should.
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw", login_delay=0.05)) as jump:
        assert connect_at_once(jump, node, 30, handshakes=30) == []
        assert jump.server.most_unauthenticated > 8, jump.server.most_unauthenticated


def test_a_bound_of_one_logs_in_one_at_a_time_and_the_nodes_still_all_connect():
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw")) as jump:
        assert connect_at_once(jump, node, 5, handshakes=1) == []
        assert jump.server.most_unauthenticated == 1 and len(jump.server.logins) == 5


def test_a_failed_login_gives_its_place_back():
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw")) as jump:
        wrong = ssh.Jump("bastion-1", ssh.Target("127.0.0.1", jump.port, "jumper", jump.pinned, password="x"),
                         handshakes=1)
        target = ssh.Target("n.invalid", 22, "root", node.pinned, password="node-pw", jump=wrong)
        jump.server.routes[("n.invalid", 22)] = ("127.0.0.1", node.port)
        for _ in range(2):  # the second would wait forever if the first kept the only place
            with pytest.raises(ssh.AuthFailed):
                jumping.connect(target, timeout=5, retries=1)
        transport = jumping.connect(replace(target, jump=replace(wrong, target=replace(wrong.target, password="jump-pw"))),
                                    timeout=5, retries=1)
        transport.close()


def test_a_login_keeps_its_place_until_the_jump_host_answered_after_it():
    # OpenSSH counts a login done a little after the client read its success; an answer from the jump
    # host after the login comes from the process started once it did.
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw")) as jump:
        assert connect_at_once(jump, node, 3, handshakes=2) == []
        assert jump.server.global_requests == ["keepalive@openssh.com"] * 3


def test_a_jump_host_that_never_answers_after_the_login_fails_in_time_naming_it():
    with sshd(Server(password="node-pw")) as node, sshd(Server(password="jump-pw", global_request_delay=3)) as jump:
        via = ssh.Jump("bastion-1", ssh.Target("127.0.0.1", jump.port, "jumper", jump.pinned, password="jump-pw"))
        jump.server.routes[("n.invalid", 22)] = ("127.0.0.1", node.port)
        target = ssh.Target("n.invalid", 22, "root", node.pinned, password="node-pw", jump=via)
        with pytest.raises(ssh.Unreachable) as caught:
            jumping.connect(target, timeout=0.5, retries=1)
        assert node.server.transports == []
    assert caught.value.hop == "jump"
    assert str(caught.value) == f"jump host bastion-1 (127.0.0.1:{jump.port}): no answer after the login within 0.5 s"
