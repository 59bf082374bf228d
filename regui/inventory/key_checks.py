"""Whether a typed SSH private key is one regui could log in with, said when it is typed (a node's own
key, a shared credential's), not by the next push. One check for every form, so a pasted public key or
a cut key gets the same words everywhere. The messages never quote what was typed."""

from __future__ import annotations

import re

from regui.remote import keys

# The largest key OpenSSH makes (RSA, 16384 bits) is ~13 KB of PEM; longer text is not one key, and is
# refused before it is parsed (six times over, by paramiko's three key types, with and without a password).
MAX_KEY_CHARS = 32 * 1024

NOT_A_KEY = "This does not look like a private key (-----BEGIN ... PRIVATE KEY-----)."
PUBLIC_KEY = ("This is a public key: paste the private key instead (the file without .pub, "
              "-----BEGIN OPENSSH PRIVATE KEY-----).")
TOO_LONG = f"This is too long for one private key (at most {MAX_KEY_CHARS} characters)."
EXTRA_TEXT = ("Paste the private key alone, from its -----BEGIN line to its -----END line: there is other "
              "text before or after it.")
ENCRYPTED_KEY = ("This key is encrypted, and a node's own key has no passphrase in regui: paste an unencrypted "
                 "key, or use a shared credential, which keeps a key with its passphrase (an admin makes one "
                 "on the SSH credentials page).")
NEEDS_PASSPHRASE = "This key is encrypted: type its passphrase below."
WRONG_PASSPHRASE = "This key cannot be read with this passphrase."
UNREADABLE_KEY = ("This key cannot be read: paste a whole private key (Ed25519, ECDSA or RSA), from its "
                  "-----BEGIN OPENSSH (or RSA or EC) PRIVATE KEY----- line to its -----END line.")

_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")
# An OpenSSH public key line (.pub, authorized_keys with its options, known_hosts, a certificate), an
# RFC 4716 block (---- BEGIN SSH2 PUBLIC KEY ----) or a PEM one (-----BEGIN [RSA] PUBLIC KEY-----).
_PUBLIC = re.compile(r"(?:^|\s)(?:ssh-|ecdsa-sha2-|sk-)\S*\s+AAAA|PUBLIC KEY")
_PUBLIC_STARTS = ("ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-")


def key_problem(pem: str, passphrase: str | None = None) -> str | None:
    """Why a login could not use this typed private key, if it could not. `passphrase` is None where the
    key has no passphrase field (a node's own key: an encrypted one is refused, with the way out), else
    the one typed with it ("" for none). WRONG_PASSPHRASE is about the passphrase, every other message
    about the key."""
    if len(pem) > MAX_KEY_CHARS:
        return TOO_LONG
    begin = _BEGIN.search(pem)
    if begin is None:
        return PUBLIC_KEY if _PUBLIC.search(pem) or pem.lstrip().startswith(_PUBLIC_STARTS) else NOT_A_KEY
    ends = list(_END.finditer(pem, begin.end()))
    if pem[:begin.start()].strip() or (ends and pem[ends[0].end():].strip()):
        return EXTRA_TEXT  # a key pasted with its .pub, a second key, a note: nothing else is stored with it
    if keys.private_key_readable(pem, passphrase or ""):
        return None
    if not keys.private_key_encrypted(pem):
        return UNREADABLE_KEY
    if passphrase is None:
        return ENCRYPTED_KEY
    if "-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem:
        return UNREADABLE_KEY  # PKCS#8, which SSH does not read with or without its passphrase
    return WRONG_PASSPHRASE if passphrase else NEEDS_PASSPHRASE
