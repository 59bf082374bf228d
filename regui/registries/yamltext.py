"""YAML scalars that every reader takes the same way (YAML 1.1 and 1.2, PyYAML, Go yaml.v2/v3).

Pure Python, no Django. A string is written plain only when it is unmistakably a string in all of
them; anything a reader could resolve to a bool, null, number, timestamp, alias, tag, comment or
mapping is double-quoted.
"""

from __future__ import annotations

import re

import yaml

# Letters, `_` or `/` first: rules out numbers, timestamps, sexagesimals, `-`/`.`/`:`-led indicators,
# `*` aliases, `&` anchors, `!` tags, `~`, `@` and backquote. The rest is a conservative charset:
# no spaces (so no ` #` or `: `), no flow indicators, no quotes or backslashes.
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./:+=-]*")
# yaml.v2 also resolves y/n, and YAML 1.1 knows `=` (value) and `<<` (merge).
_WORDS = {
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
}
_RESOLVER = yaml.resolver.Resolver()

_ESCAPES = {
    "\\": "\\\\", '"': '\\"', "\0": "\\0", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n",
    "\v": "\\v", "\f": "\\f", "\r": "\\r", "\x1b": "\\e", "\x85": "\\N", "\xa0": "\\_",
    "\u2028": "\\L", "\u2029": "\\P",
}


def _is_plain_safe(s: str) -> bool:
    if not _PLAIN.fullmatch(s) or s.lower() in _WORDS or s.endswith(":"):
        return False
    tag = _RESOLVER.resolve(yaml.ScalarNode, s, (True, False))
    return tag == "tag:yaml.org,2002:str"


def _escape_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F or code == 0xFEFF or 0xD800 <= code <= 0xDFFF:
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return ch


def quote(s: str) -> str:
    return '"' + "".join(_escape_char(c) for c in s) + '"'


def scalar(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if _is_plain_safe(value) else quote(value)
