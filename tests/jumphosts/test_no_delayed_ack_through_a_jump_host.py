"""The node's SSH inside the jump host's channel answers the node's global requests (OpenSSH sends
hostkeys-00@openssh.com right after the login) with an SSH_MSG_IGNORE too: the jump host then has
something to send the node, so its TCP acknowledgement goes at once instead of after the delayed-ACK
timer (~40 ms) that held back the node's answer to our first channel (bench/jump.py, one at a time)."""

from __future__ import annotations

import socket

import paramiko
from paramiko.common import MSG_IGNORE, MSG_REQUEST_FAILURE, cMSG_GLOBAL_REQUEST

from regui.remote import jump as jumping


def sent_for_global_request(want_reply: bool) -> list[int]:
    """The message types the transport sends on receiving one global request from the node."""
    ours, theirs = socket.socketpair()
    transport = jumping._ViaJump(ours)
    sent: list[int] = []
    transport._send_message = lambda m: sent.append(m.asbytes()[0])  # type: ignore[method-assign]
    try:
        request = paramiko.Message()
        request.add_byte(cMSG_GLOBAL_REQUEST)
        request.add_string("hostkeys-00@openssh.com")
        request.add_boolean(want_reply)
        request.rewind()
        request.get_byte()
        transport._parse_global_request(request)
    finally:
        transport.close()
        theirs.close()
    return sent


def test_a_global_request_from_the_node_is_answered_with_an_ignore():
    assert sent_for_global_request(want_reply=False) == [MSG_IGNORE]


def test_one_that_wants_a_reply_gets_its_refusal_first_then_the_ignore():
    assert sent_for_global_request(want_reply=True) == [MSG_REQUEST_FAILURE, MSG_IGNORE]
