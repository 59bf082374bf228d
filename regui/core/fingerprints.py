"""What pages show in place of a file's sha256, and the sync key that says which file a node holds.

The sha256 of a registries.yaml is derived from the secret values in it: next to the redacted text,
a guess of a weak password can be checked against it offline. Pages show a keyed fingerprint
instead, so that without the server's key no guess can be checked.

Nor may an online guess be checked: whoever saves a guessed password in place of a secret someone else
typed must not learn from a fingerprint, a node's "in sync" or a push's "unchanged" that the file's
bytes came out the same. So what regui compares and shows is the sync key: a hash of the file's
sha256 and the identities of the secret values in it (Secret.value_id, new whenever a value is
written), never of the values alone. A secret given a value again (even the same one) makes a new key,
and a new fingerprint; the same save of the same secrets keeps both.

The sync key is stored (on nodes, revisions, push results) and compared, never shown: pages show its
keyed fingerprint. It is not keyed itself, so it does not change with the server's key: a rotated
REGUI_SECRET_KEY (or a worker started with another one) must not make every node of every fleet look
drifted and every next push a restart. Whoever reads it reads the database, which holds the file's
sha256 beside it anyway.
"""

from __future__ import annotations

import hashlib
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
    return hashlib.sha256(f"{_KEY_SALT}\0{sha256_hex}\0{ids}".encode()).hexdigest()


def file_fingerprint(key: str | None) -> str:
    """What a page shows of a file: from its sync key (or, for a file regui did not write, a sha256:
    in another namespace, so it never equals a sync key's)."""
    if not key:
        return ""
    return salted_hmac(_SALT, key, algorithm="sha256").hexdigest()[:20]
