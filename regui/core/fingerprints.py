"""What pages show in place of a file's sha256.

The sha256 of a registries.yaml is derived from the secret values in it: next to the redacted text,
a guess of a weak password can be checked against it offline. Pages show a keyed fingerprint
instead: the same file always has the same fingerprint (so people can still compare nodes and
revisions), but without the server's key no guess can be checked.
"""

from __future__ import annotations

from django.utils.crypto import salted_hmac

_SALT = "regui.file-fingerprint"


def file_fingerprint(sha256_hex: str | None) -> str:
    if not sha256_hex:
        return ""
    return salted_hmac(_SALT, sha256_hex, algorithm="sha256").hexdigest()[:20]
