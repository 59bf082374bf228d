"""`WWW-Authenticate` challenges (RFC 7235) as a registry sends them, read as containerd reads them:
each scheme with its parameters, quoted strings unescaped. Pure Python."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "basic", "bearer"
    params: dict[str, str]


_TOKEN_CHARS = frozenset("!#$%&'*+.^_`|~-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _token_at(text: str, i: int) -> int:
    j = i
    while j < len(text) and text[j] in _TOKEN_CHARS:
        j += 1
    return j


def _quoted_at(text: str, i: int) -> tuple[str, int]:
    """The quoted string starting at text[i] == '"' (backslash escapes), and the index after it."""
    out, j = [], i + 1
    while j < len(text) and text[j] != '"':
        if text[j] == "\\" and j + 1 < len(text):
            j += 1
        out.append(text[j])
        j += 1
    return "".join(out), j + 1


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """`Bearer realm="…",service="…", Basic realm="…"` -> challenges with their parameters (RFC 7235)."""
    found: list[Challenge] = []
    for header in headers:
        i, current = 0, None
        while i < len(header):
            if header[i] in " \t,":
                i += 1
                continue
            end = _token_at(header, i)
            if end == i:
                i += 1
                continue
            word, k = header[i:end], end
            while k < len(header) and header[k] in " \t":
                k += 1
            if current is not None and k < len(header) and header[k] == "=":
                k += 1
                while k < len(header) and header[k] in " \t":
                    k += 1
                if k < len(header) and header[k] == '"':
                    value, i = _quoted_at(header, k)
                else:
                    i = _token_at(header, k)
                    value = header[k:i]
                current.params[word.lower()] = value
            else:
                current = Challenge(word.lower(), {})
                found.append(current)
                i = end
    return found
