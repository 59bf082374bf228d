"""Go ``net/url`` escaping and unescaping of URL parts (``shouldEscape``, ``escape``, ``unescape``).

Strings hold raw bytes as ``surrogateescape`` so ``%FF`` survives a round trip. The byte-level
rules are kept as written in Go (``_should_escape``, ``_unescape_bytes``); the functions used on
every URL take one C-level pass when a part needs no work, which is nearly always, so that a long
endpoint costs microseconds per kilobyte instead of a Python step per byte on each call (a 2.4 MB
endpoint took 31 s).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from .gostrings import go_quote


class URLError(ValueError):
    """A string that Go's ``url.Parse`` rejects; ``str()`` matches Go's message."""


HOST, ZONE, PATH, USERPASS, QUERY, FRAGMENT = range(6)
_UPPERHEX = "0123456789ABCDEF"
_HEX = set(b"0123456789abcdefABCDEF")


def _should_escape(c: int, mode: int) -> bool:
    if 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122:
        return False
    if mode in (HOST, ZONE) and chr(c) in "!$&'()*+,;=:[]<>\"":
        return False
    if chr(c) in "-_.~":
        return False
    if chr(c) in "$&+,/:;=?@":
        if mode == PATH:
            return c == ord("?")
        if mode == USERPASS:
            return chr(c) in "@/?:"
        if mode == QUERY:
            return True
        if mode == FRAGMENT:
            return False
    return not (mode == FRAGMENT and chr(c) in "!()*")


def _bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _str(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _escaped(c: int, mode: int) -> str:
    if c == 0x20 and mode == QUERY:
        return "+"
    if _should_escape(c, mode):
        return "%" + _UPPERHEX[c >> 4] + _UPPERHEX[c & 15]
    return chr(c)


# Per mode, byte by byte: what escape() writes, and the bytes it keeps as they are. The byte-level
# loops below run only when a value needs them; the common case is one C-level pass (translate), so
# a long endpoint costs microseconds per kilobyte, not a Python step per byte on every call.
_MODES = range(6)
_ESCAPED = [[_escaped(c, mode) for c in range(256)] for mode in _MODES]
_KEPT = [bytes(c for c in range(256) if _ESCAPED[mode][c] == chr(c)) for mode in _MODES]
_VALID_ENCODED = [bytes(c for c in range(256) if chr(c) in "!$&'()*+,;=:@[]%" or not _should_escape(c, mode))
                  for mode in _MODES]
_HOST_CHARS = [bytes(c for c in range(256) if not (c < 0x80 and _should_escape(c, mode))) for mode in _MODES]
_BAD_ESCAPE = re.compile(rb"%(?![0-9a-fA-F]{2})")


def escape(s: str, mode: int) -> str:
    data = _bytes(s)
    if not data.translate(None, _KEPT[mode]):
        return data.decode("ascii")
    return "".join(map(_ESCAPED[mode].__getitem__, data))


def query_escape(s: str) -> str:
    return escape(s, QUERY)


def unescape(s: str, mode: int) -> str:
    b = _bytes(s)
    host = mode in (HOST, ZONE)
    if b"%" not in b and not (host and b.translate(None, _HOST_CHARS[mode])):
        return _str(b)
    if not host and _BAD_ESCAPE.search(b) is None:
        return _str(unquote_to_bytes(b))  # every % starts a valid %XX: the standard library decodes them
    return _unescape_bytes(b, mode)


def _unescape_bytes(b: bytes, mode: int) -> str:
    """unescape() byte by byte: for hosts with escapes, and to name the first bad escape."""
    i, out = 0, bytearray()
    while i < len(b):
        c = b[i]
        if c == 0x25:  # '%'
            if i + 2 >= len(b) or b[i + 1] not in _HEX or b[i + 2] not in _HEX:
                raise URLError(f"invalid URL escape {go_quote(_str(b[i:i + 3]))}")
            # RFC 3986: in a host, %-encoding is only for non-ASCII bytes (and %25 for zones).
            if mode == HOST and int(chr(b[i + 1]), 16) < 8 and b[i:i + 3] != b"%25":
                raise URLError(f"invalid URL escape {go_quote(_str(b[i:i + 3]))}")
            v = int(_str(b[i + 1:i + 3]), 16)
            if mode == ZONE and b[i:i + 3] != b"%25" and v != 0x20 and _should_escape(v, HOST):
                raise URLError(f"invalid URL escape {go_quote(_str(b[i:i + 3]))}")
            out.append(v)
            i += 3
            continue
        if mode in (HOST, ZONE) and c < 0x80 and _should_escape(c, mode):
            raise URLError(f"invalid character {go_quote(chr(c))} in host name")
        out.append(c)
        i += 1
    return _str(bytes(out))


def valid_encoded(s: str, mode: int) -> bool:
    return not _bytes(s).translate(None, _VALID_ENCODED[mode])
