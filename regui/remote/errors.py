"""What SSH failures regui tells an operator about, by kind. Pure Python, no Django."""

from __future__ import annotations


class SSHError(Exception):
    """A failure with a message fit for an operator. `unreachable` separates network trouble."""

    unreachable = False
    hop = ""  # through a jump host: "jump" or "node", the hop that failed


class Unreachable(SSHError):
    unreachable = True


class HostKeyRefused(SSHError):
    pass


class AuthFailed(SSHError):
    pass
