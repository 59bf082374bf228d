"""Throw-away SSH private keys made at test time (no key committed to the repository): regui reads a
node's typed key, so a test that types one needs a real one."""

from __future__ import annotations

from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@cache
def ssh_key(name: str = "node", passphrase: str = "") -> str:
    """An OpenSSH Ed25519 private key (encrypted when given a passphrase), the same one for a name all
    session long (an encrypted one costs a bcrypt round)."""
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption).decode()


@cache
def ssh_public_key(name: str = "node") -> str:
    """The public half of `ssh_key(name)`, as in its .pub file."""
    private = serialization.load_ssh_private_key(ssh_key(name).encode(), password=None)
    return private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH).decode() + " regui-test\n"
