"""What regui may show of a node's registries.yaml: none of its credentials, even where it shows text.

A node's file is no one's typing, and its root can write a credential where regui shows text: a
registry name that is an alias of the password, a !!binary name that decodes to it, the password
itself as a name, an endpoint, a rewrite, a username or a TLS path. Shown, it would reach the import's
preview and refusals, the saved registries and their pages, lint, hosts.toml and history. So of a node's
file regui reads registry names only as written text (an alias or a tag can stand for anything, and
judging which are harmless would mean showing them), and withholds the file when any text it shows
holds a credential of that same file. Each reason names a line, never its text.

Only the file's own credentials are compared: comparing with the secrets regui keeps would answer
whoever can put a file on a node whether a guess is one of them."""

from __future__ import annotations

import base64
import binascii
import bisect
import re
import unicodedata
from collections.abc import Iterator

from regui.k3s import Auth, Registries

# A credential this short is withheld only where it is the whole text: `io` would withhold docker.io.
_CONTAINED_FROM = 4
# What a page does not show as a character of its own: format characters (a zero-width space, a soft
# hyphen) and marks set over the letter before them.
_UNSEEN = ("Cf", "Mn", "Me")


def folded(text: str) -> str:
    """`text` as a reader tells it apart: casefolded, Unicode's compatibility forms as their letters
    (fullwidth `ｈ` is h), accents however composed, nothing that does not print as a character."""
    if text.isascii():
        return text.casefold()
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(c for c in text if unicodedata.category(c) not in _UNSEEN)


def has_userinfo(url: str) -> bool:
    """Whether an endpoint carries credentials (`https://user:password@host`). By hand: urlsplit raises on
    some strings K3s takes (e.g. a lone "[")."""
    rest = url.split("://", 1)[1] if "://" in url else url
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return "@" in netloc


def _credentials(auths: Iterator[Auth]) -> set[str]:
    """Each credential of the file, casefolded, as written and as a name could carry it (base64, and an
    `auth` value's password decoded)."""
    found: set[str] = set()
    for auth in auths:
        found.update(v for v in (auth.password, auth.identity_token, auth.auth) if v)
        try:
            decoded = base64.b64decode(auth.auth, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            decoded = ""
        found.update(v for v in (decoded, decoded.partition(":")[2]) if v)
    encoded: set[str] = set()
    for value in found:
        raw = value.encode("utf-8", "surrogatepass")
        encoded.update(e.decode().rstrip("=") for e in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)))
    return {f for v in found | encoded if (f := folded(v))}


def _shown(parsed: Registries) -> Iterator[tuple[tuple[object, ...], str, str]]:
    """Each text regui shows of the file: (where its line is kept, what it is, the text)."""
    for host, mirror in parsed.mirrors.items():
        yield ("mirrors", host), "a mirror's name", host
        for i, endpoint in enumerate(mirror.endpoints):
            yield ("mirrors", host, "endpoint", i), "an endpoint", endpoint
        for pattern, replacement in mirror.rewrites.items():
            yield ("mirrors", host, "rewrite", pattern), "a rewrite", pattern
            yield ("mirrors", host, "rewrite", pattern), "a rewrite", replacement
    for host, config in parsed.configs.items():
        yield ("configs", host), "a registry authentication's name", host
        if config.auth is not None:
            yield ("configs", host, "auth", "username"), "a username", config.auth.username
        if config.tls is not None:
            for f in ("ca_file", "cert_file", "key_file"):
                yield ("configs", host, "tls", f), "a TLS path", getattr(config.tls, f)


_REASONS = 50  # lines named at most: any one withholds the file


def _holding(shown: list[tuple[int, str, str]], credentials: set[str]) -> dict[int, str]:
    """The lines whose text holds a credential, and what that text is. One search of each credential
    through all the text (joined, casefolded): the file's values can come to hundreds of KiB."""
    texts = [folded(text) for _, _, text in shown]
    joined = "\0".join(texts)
    starts = [0]
    for text in texts:
        starts.append(starts[-1] + len(text) + 1)
    found: dict[int, str] = {}
    whole = {text: i for i, text in reversed(list(enumerate(texts)))}
    for credential in credentials:
        if len(credential) < _CONTAINED_FROM:
            hits = [whole[credential]] if credential in whole else []
        else:
            hits, at = [], joined.find(credential)
            while at >= 0 and len(found) + len(hits) < _REASONS:
                hits.append(i := bisect.bisect_right(starts, at) - 1)
                at = joined.find(credential, starts[i + 1])
        found.update((shown[i][0], shown[i][1]) for i in hits)
        if len(found) >= _REASONS:
            break
    return found


def withheld(parsed: Registries) -> list[str]:
    """Why regui may not show (nor import) this node's file, one reason a line; [] when it may."""
    reasons = {line: f"line {line}: a registry name under {path[0]} is written as {form}; of a node's file "
                     "regui reads names only as plain or quoted text"
               for path, (line, form) in parsed.name_forms.items() if path[0] in ("mirrors", "configs")}
    for host, mirror in parsed.mirrors.items():
        for i, endpoint in enumerate(mirror.endpoints):
            if has_userinfo(endpoint):
                line = parsed.lines.get(("mirrors", host, "endpoint", i), 0)
                reasons.setdefault(line, f"line {line}: an endpoint holds credentials (user:password@); regui "
                                         "neither shows nor keeps them")
    auths = [c.auth for c in parsed.configs.values() if c.auth is not None] + list(parsed.auths.values())
    if credentials := _credentials(iter(auths)):
        shown = [(parsed.lines.get(where, 0), what, text) for where, what, text in _shown(parsed) if text]
        for line, what in _holding(shown, credentials).items():
            reasons.setdefault(line, f"line {line}: {what} holds a credential of this file (a password, auth or "
                                     "identity_token value, or its base64)")
    return [reasons[line] for line in sorted(reasons)]
