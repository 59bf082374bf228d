"""What a careless user (or an attacker) pastes where a private key goes, with what every key form says
to it (a node's own key and a shared credential's alike), and how a test reads a page for what was typed."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils.html import escape

from regui.inventory.key_checks import (
    EXTRA_TEXT,
    MAX_KEY_CHARS,
    NOT_A_KEY,
    PUBLIC_KEY,
    TOO_LONG,
    UNREADABLE_KEY,
)
from tests.certs import key_and_cert
from tests.keys import ssh_key, ssh_public_key


def cut(key: str) -> str:
    lines = key.splitlines()
    return "\n".join([*lines[:3], lines[-1]]) + "\n"


def ec_key(fmt: serialization.PrivateFormat, passphrase: str = "") -> str:
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def _pem_public_key(fmt: serialization.PublicFormat) -> str:
    return ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(serialization.Encoding.PEM,
                                                                             fmt).decode()


def _ssh2_public_key() -> str:
    """The RFC 4716 form (ssh-keygen -e, PuTTYgen's "save public key")."""
    blob = ssh_public_key("ssh2").split()[1]
    return ("---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"regui-test\"\n"
            + "\n".join(blob[i:i + 70] for i in range(0, len(blob), 70)) + "\n---- END SSH2 PUBLIC KEY ----\n")


def _padded(key: str, size: int) -> str:
    """A real key whose body is padded past `size` characters (paramiko reads it: it ignores the rest)."""
    head, _, tail = key.rpartition("-----END")
    return head + ("A" * 76 + "\n") * (size // 77 + 1) + "-----END" + tail


# Said alike by every form that takes a private key, whatever its passphrase.
CARELESS_PASTES = {
    "garbage between BEGIN and END": ("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key-Zq9 at all\n"
                                      "-----END OPENSSH PRIVATE KEY-----\n", UNREADABLE_KEY),
    "base64 garbage in an RSA envelope": ("-----BEGIN RSA PRIVATE KEY-----\n"
                                          + base64.b64encode(b"garbage-Zq9 " * 20).decode()
                                          + "\n-----END RSA PRIVATE KEY-----\n", UNREADABLE_KEY),
    "a real key cut short": (cut(ssh_key("cut")), UNREADABLE_KEY),
    "a real key with its END line lost": (ssh_key("no-end").rsplit("-----END", 1)[0], UNREADABLE_KEY),
    "a PKCS#8 key, which SSH does not read": (ec_key(serialization.PrivateFormat.PKCS8), UNREADABLE_KEY),
    "a real key with a note after it": (ssh_key("noted") + "prod fleet, rotate in May-Zq9\n", EXTRA_TEXT),
    "a real key with its .pub after it": (ssh_key("pair") + ssh_public_key("pair"), EXTRA_TEXT),
    "a real key with a line before it": ("my key-Zq9:\n" + ssh_key("headed"), EXTRA_TEXT),
    "two real keys": (ssh_key("one") + ssh_key("two"), EXTRA_TEXT),
    "the public key from the .pub file": (ssh_public_key("pub"), PUBLIC_KEY),
    "a public key without its comment": (ssh_public_key("bare").rsplit(" ", 1)[0], PUBLIC_KEY),
    "an authorized_keys line with options": ('from="10.0.0.0/8",no-pty ' + ssh_public_key("opts"), PUBLIC_KEY),
    "a public key whose comment says PRIVATE KEY": (ssh_public_key("odd").strip() + " my PRIVATE KEY\n",
                                                    PUBLIC_KEY),
    "an RFC 4716 public key": (_ssh2_public_key(), PUBLIC_KEY),
    "a PEM public key": (_pem_public_key(serialization.PublicFormat.SubjectPublicKeyInfo), PUBLIC_KEY),
    "a PEM RSA-style public key": (_pem_public_key(serialization.PublicFormat.SubjectPublicKeyInfo)
                                   .replace("PUBLIC KEY", "RSA PUBLIC KEY"), PUBLIC_KEY),
    "a certificate": (key_and_cert("node-key-check.test")[1], NOT_A_KEY),
    "only spaces": ("   \n  ", NOT_A_KEY),
    "a real key padded past the size limit": (_padded(ssh_key("padded"), MAX_KEY_CHARS), TOO_LONG),
}


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def shown(page: str, typed: str) -> list[str]:
    """The lines of what was typed that the page shows (its -----BEGIN/END lines are in the form's
    placeholder and messages anyway)."""
    lines = [ln.strip() for ln in typed.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("-----") and (ln in page or escape(ln) in page)]


def field_errors(page: str, field: str) -> list[str]:
    """The errors shown under one field (form_fields.html: one <div class="field"> a field)."""
    (block,) = [f for f in page.split('<div class="field">') if f'for="id_{field}"' in f]
    return [e.split("</div>", 1)[0] for e in block.split('<div class="field-error">')[1:]]
