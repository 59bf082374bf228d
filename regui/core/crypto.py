"""Encryption at rest for secret values: a MultiFernet key ring (cryptography), newest key first.

Imports nothing from Django but its exception class, so settings can validate the key ring early.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "KeyringError", "decrypt", "encrypt", "generate_key", "parse_keyring", "rotate"]


class KeyringError(Exception):
    pass


def generate_key() -> str:
    return Fernet.generate_key().decode()


def parse_keyring(raw: str | None) -> tuple[str, ...]:
    """Split and check REGUI_ENCRYPTION_KEYS; raise ImproperlyConfigured-like errors with a fix."""
    keys = tuple(k.strip() for k in (raw or "").split(",") if k.strip())
    if not keys:
        raise ImproperlyConfigured(
            "REGUI_ENCRYPTION_KEYS is not set: regui cannot encrypt or read secret values. "
            "Set it (or REGUI_ENCRYPTION_KEYS_FILE) to one or more comma-separated Fernet keys, newest "
            'first. Make one with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        )
    for i, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"REGUI_ENCRYPTION_KEYS: key #{i} is not a valid Fernet key (32 url-safe base64-encoded "
                f"bytes): {exc}"
            ) from None
    return keys


@lru_cache(maxsize=8)
def _ring(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(keys: tuple[str, ...], plaintext: str) -> str:
    return _ring(keys).encrypt(plaintext.encode()).decode()


def decrypt(keys: tuple[str, ...], token: str) -> str:
    try:
        return _ring(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise KeyringError(
            "a stored secret cannot be decrypted with REGUI_ENCRYPTION_KEYS: the key that encrypted it is "
            "not in the key ring (was a key removed or replaced instead of prepended?)"
        ) from None


def rotate(keys: tuple[str, ...], token: str) -> str:
    """Re-encrypt with the newest key (MultiFernet.rotate keeps the original timestamp)."""
    try:
        return _ring(keys).rotate(token.encode()).decode()
    except InvalidToken:
        raise KeyringError("a stored secret cannot be decrypted with REGUI_ENCRYPTION_KEYS") from None
