"""What pages show in place of a file's sha256, and the sync key that says which file a node holds.

The sha256 of a registries.yaml is derived from the secret values in it: next to the redacted text,
a guess of a weak password can be checked against it offline. Pages show a keyed fingerprint
instead, so that without the server's key no guess can be checked.

Nor may an online guess be checked: whoever saves a guessed password in place of a secret someone else
typed must not learn from a fingerprint, a node's "in sync" or a push's "unchanged" that the file's
bytes came out the same. So what regui compares and shows is the sync key: a keyed hash of the file's
sha256 and the identities of the secret values in it (Secret.value_id, new whenever a value is
written), never of the values alone. A secret given a value again (even the same one) makes a new key,
and a new fingerprint; the same save of the same secrets keeps both.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.crypto import salted_hmac

_SALT = "regui.file-fingerprint"
_KEY_SALT = "regui.sync-key"


def sync_key(sha256_hex: str, value_ids: Iterable[str]) -> str:
    """The file's identity for sync states: its bytes (by sha256) and which secret values it holds (by
    identity). "" for no file."""
    if not sha256_hex:
        return ""
    ids = ",".join(sorted(set(value_ids)))
    return salted_hmac(_KEY_SALT, f"{sha256_hex}\0{ids}", algorithm="sha256").hexdigest()


def file_fingerprint(key: str | None) -> str:
    """What a page shows of a file: from its sync key (or, for a file regui did not write, a sha256:
    in another namespace, so it never equals a sync key's)."""
    if not key:
        return ""
    return salted_hmac(_SALT, key, algorithm="sha256").hexdigest()[:20]
