"""Private keys for SSH logins (paramiko): read, told apart when they cannot be, and parsed once per job.
Pure Python, no Django."""

from __future__ import annotations

import contextlib
import contextvars
import io
import threading
from collections.abc import Iterator

import paramiko

from .errors import AuthFailed


def _load_private_key(pem: str, passphrase: str = "") -> paramiko.PKey:
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(pem), password=passphrase or None)
        except (paramiko.SSHException, ValueError):
            continue
    if passphrase:
        raise AuthFailed("the stored private key cannot be read with its passphrase (OpenSSH/PEM key)")
    raise AuthFailed("the stored private key cannot be read (not an unencrypted OpenSSH/PEM key, "
                     "or it needs a passphrase)")


def private_key_readable(pem: str, passphrase: str = "") -> bool:
    """Whether a login could use this key (with this passphrase): checked when one is typed, so a wrong
    one is said then, not by every node's next push."""
    try:
        _load_private_key(pem, passphrase)
    except Exception:  # typed text: on a mangled key paramiko and its libraries raise more than SSHException
        return False  # (struct, nacl, cryptography errors); a form says "cannot be read", never a 500
    return True


def private_key_encrypted(pem: str) -> bool:
    """Whether this key is one regui could read only with its passphrase: said apart from a key that
    cannot be read at all, where no passphrase can be typed (a node's own key)."""
    if "-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem:  # PKCS#8, which paramiko does not parse
        return True
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            cls.from_private_key(io.StringIO(pem))
        except paramiko.PasswordRequiredException:
            return True
        except Exception:  # not this key type, or not a key at all
            continue
    return False


class _Parsed:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: paramiko.PKey | None = None


class ParsedKeys:
    """Private keys parsed once for all the connections of a job, not once per node: reading an RSA key
    checks its primes (~0.1 s of CPU at 3072 bits), which a push to 100 nodes paid 100 times at once.
    Kept in memory only, only while `keys_parsed_once` runs, and emptied when it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], _Parsed] = {}

    def get(self, pem: str, passphrase: str) -> paramiko.PKey:
        with self._lock:
            parsed = self._keys.setdefault((pem, passphrase), _Parsed())
        with parsed.lock:  # the nodes starting at once wait for one parse instead of each doing it
            if parsed.key is None:
                parsed.key = _load_private_key(pem, passphrase)  # (a key that cannot be read is not kept)
            return parsed.key

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


_parsed_keys: contextvars.ContextVar[ParsedKeys | None] = contextvars.ContextVar("regui_parsed_keys", default=None)


@contextlib.contextmanager
def keys_parsed_once() -> Iterator[ParsedKeys]:
    """In this block, and in threads run in a copy of its context (a job's node threads), each private
    key is parsed once for all its logins."""
    keys = ParsedKeys()
    token = _parsed_keys.set(keys)
    try:
        yield keys
    finally:
        _parsed_keys.reset(token)
        keys.clear()


def private_key(pem: str, passphrase: str = "") -> paramiko.PKey:
    """The key a login signs with: parsed once per job inside `keys_parsed_once`, else now."""
    keys = _parsed_keys.get()
    if keys is None:
        return _load_private_key(pem, passphrase)
    return keys.get(pem, passphrase)
