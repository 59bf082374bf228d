"""The in-process sshd (tests/fakes/sshd.py) keeps a session channel open until the client closes it, as
sshd does: on a loaded machine a node's exec request can come well after its session was opened, and a
fake that dropped the session meanwhile failed the jump host tests at random ('Channel closed.')."""

from __future__ import annotations

import time

from regui.remote import ssh
from tests.fakes.sshd import Server, sshd


def test_a_session_still_runs_the_command_it_is_sent_a_while_after_it_was_opened() -> None:
    with sshd(Server(password="node-pw")) as node:
        transport = ssh.connect(ssh.Target("127.0.0.1", node.port, "root", node.pinned, password="node-pw"),
                                timeout=5, retries=1)
        try:
            channel = transport.open_session(timeout=5)
            time.sleep(0.6)  # a few of the fake's accept() rounds (0.2 s each): a busy machine's delay
            channel.exec_command("echo")
            channel.shutdown_write()
            assert channel.makefile("rb").read() == b"fine\n"
            assert channel.recv_exit_status() == 0
        finally:
            transport.close()
