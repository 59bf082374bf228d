"""What an SSH address and user may be, for every way one comes in (node form, bulk add, inventory
import, jump host form).

regui connects with paramiko, not the ssh command, so `-oProxyCommand=...` in an address or user runs
nothing today. These rules still refuse it, with spaces, URLs and control characters: such a value is
a typo or an attack, never a host, and it would become one the day a value reaches a command line
(an operator's copy of it, a future tool). Returns the problem in words, or "" when the value is fine."""

from __future__ import annotations

import ipaddress
import re

ADDRESS_MAX = 253
USER_MAX = 64
_HOST_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9._-]*[A-Za-z0-9_.])?")
# POSIX-like names plus the `user@domain` and `DOMAIN\user` forms directory-backed logins use.
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._@\\-]*\$?")


def address_problem(address: str) -> str:
    if not address:
        return "Enter a host name or IP address."
    if len(address) > ADDRESS_MAX:
        return f"An address has {ADDRESS_MAX} characters at most."
    if "://" in address or "/" in address:
        return "Enter the host name or IP address alone, not a URL (e.g. 10.0.0.5 or node-1.example.com)."
    if ":" in address:
        host, _, port = address.rpartition(":")
        if ":" not in host and port.isascii() and port.isdigit():
            return f"{address} ends with a port: enter {host} here and {port} in the Port field."
        try:
            ipaddress.IPv6Address(address.strip("[]"))
        except ValueError:
            return "Not an IPv6 address; a port goes in the Port field."
        return ""
    if address.startswith("-"):
        return "An address cannot start with '-'."
    if not address.isascii():
        return "Use the ASCII (punycode, xn--...) form of an international host name."
    if not _HOST_NAME.fullmatch(address):
        return "A host name has letters, digits, '.', '-' and '_' only (no spaces)."
    return ""


def user_problem(user: str) -> str:
    if not user:
        return "Enter the SSH user."
    if len(user) > USER_MAX:
        return f"An SSH user has {USER_MAX} characters at most."
    if user.startswith("-"):
        return "An SSH user cannot start with '-'."
    if not _USER.fullmatch(user):
        return "An SSH user has letters, digits and . _ - @ \\ only (no spaces)."
    return ""
