"""What is wrong with pasted PEM text, said in words (issue 11 item 12).

cryptography's own errors name its parser's internals ("MalformedFraming", "ParseError { kind:
ShortData … }"). This reads the text the way PEM is built — BEGIN line, base64 lines, END line —
and says which part is wrong: a block cut off before its END line, a line changed on the way
(not base64), base64 that decodes to a truncated certificate, a private key pasted where a
certificate goes (or the reverse). Pure Python, no Django.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from cryptography import x509

_MARKER = re.compile(r"^\s*-----(BEGIN|END) ([^-]*)-----\s*$")
_BASE64 = re.compile(r"[A-Za-z0-9+/=]*")
_HEADER = re.compile(r"^[A-Za-z-]+:")  # RFC 1421 headers (Proc-Type, DEK-Info) of old encrypted keys

CERTIFICATE = "CERTIFICATE"
_NAMES = {
    "CERTIFICATE": "a certificate",
    "CERTIFICATE REQUEST": "a certificate signing request (CSR)",
    "NEW CERTIFICATE REQUEST": "a certificate signing request (CSR)",
    "PUBLIC KEY": "a public key",
    "RSA PUBLIC KEY": "a public key",
    "X509 CRL": "a certificate revocation list",
    "TRUSTED CERTIFICATE": "an OpenSSL TRUSTED CERTIFICATE (a certificate with trust settings)",
    "PKCS7": "a PKCS#7 bundle",
    "OPENSSH PRIVATE KEY": "an OpenSSH private key (ssh-keygen's format)",
    "ENCRYPTED PRIVATE KEY": "a private key protected by a passphrase",
}


def _name(label: str) -> str:
    if label in _NAMES:
        return _NAMES[label]
    return "a private key" if label.endswith("PRIVATE KEY") else f"a “{label}” block"


def is_key_label(label: str) -> bool:
    return label.endswith("PRIVATE KEY")


@dataclass
class Block:
    label: str
    begin: int  # 1-based line numbers in the pasted text
    end: int | None = None
    end_label: str | None = None
    lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, base64 line)
    encrypted: bool = False  # an RFC 1421 "Proc-Type: 4,ENCRYPTED" header


@dataclass
class Scan:
    blocks: list[Block]
    outside: list[tuple[int, str]]  # non-blank lines outside every block


def scan(text: str) -> Scan:
    """The blocks of PEM text; a block whose END line is missing ends where the next BEGIN starts."""
    blocks: list[Block] = []
    outside: list[tuple[int, str]] = []
    current: Block | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        marker = _MARKER.match(line)
        if marker and marker[1] == "BEGIN":
            current = Block(marker[2].strip(), number)
            blocks.append(current)
        elif marker and current is not None:
            current.end, current.end_label, current = number, marker[2].strip(), None
        elif current is not None:
            if _HEADER.match(line.strip()):
                current.encrypted = current.encrypted or "ENCRYPTED" in line.upper()
            elif line.strip():
                current.lines.append((number, line.strip()))
        elif line.strip():
            outside.append((number, line.strip()))
    return Scan(blocks, outside)


def _looks_like_base64_der(text: str) -> bool:
    """Base64 of DER (a certificate's or key's body): it decodes, to an ASN.1 SEQUENCE."""
    joined = "".join(text.split())
    if not _BASE64.fullmatch(joined):
        return False
    try:
        der = base64.b64decode(joined + "=" * (-len(joined) % 4))
    except binascii.Error:
        return False
    return len(der) > 2 and der[0] == 0x30


def _body_problem(block: Block, what: str) -> str | None:
    """Whether the base64 between BEGIN and END is whole; `what` names the block ("The certificate")."""
    end = f"-----END {block.label}-----"
    if block.end is None:
        return f"{what} is cut off (the text ends before {end})."
    if block.end_label != block.label:
        return (f"{what} starts with -----BEGIN {block.label}----- (line {block.begin}) but ends with "
                f"-----END {block.end_label}----- (line {block.end}): parts of two blocks were joined.")
    if not block.lines:
        return f"{what} is empty: there is nothing between its BEGIN and END lines (line {block.begin})."
    for number, line in block.lines:
        bad = next((c for c in line if not (c.isascii() and (c.isalnum() or c in "+/="))), None)
        if bad is not None:
            shown = "a space" if bad.isspace() else f"“{bad}”"
            return (f"Line {number} of {what[0].lower() + what[1:]} has {shown}, which base64 does not use: "
                    "the text was changed on the way (copy it again from the file).")
    joined = "".join(line for _, line in block.lines)
    if "=" in joined.rstrip("=") or len(joined) % 4:
        return (f"{what} is missing characters (its base64 text does not come out whole): a line was cut "
                "short or lost when it was copied.")
    return None


def _der(block: Block) -> bytes:
    return base64.b64decode("".join(line for _, line in block.lines))


def _where(index: int, count: int, noun: str) -> str:
    return f"The {noun}" if count == 1 else f"{noun[0].upper()}{noun[1:]} {index + 1}"


def _no_begin(text: str, label: str, noun: str) -> str:
    if _looks_like_base64_der(text):
        return (f"This is base64 text without the -----BEGIN {label}----- and -----END {label}----- lines "
                f"around it: paste the whole {noun}, those two lines included.")
    if "BEGIN" in text.upper():
        return f"The -----BEGIN {label}----- line is damaged: it needs five dashes on each side and capital letters."
    return f"This is not a PEM {noun}: it should start with -----BEGIN {label}-----."


def certificate_problem(text: str, *, ca: bool = False, field_name: str = "Certificate") -> str | None:
    """What is wrong with one or more PEM certificates, in words; None when each one reads."""
    noun = "CA certificate" if ca else "certificate"
    found = scan(text)
    if not found.blocks:
        return _no_begin(text, CERTIFICATE, noun)
    count = len(found.blocks)
    for i, block in enumerate(found.blocks):
        if block.label != CERTIFICATE:
            return _not_a_certificate(block, i, noun, ca, field_name)
        what = _where(i, count, noun)
        if problem := _body_problem(block, what):
            return problem
        try:
            x509.load_der_x509_certificate(_der(block))
        except (ValueError, binascii.Error) as exc:
            if "ShortData" in str(exc) or "short data" in str(exc):
                return (f"{what} is cut off: its text ends before the certificate does (lines are missing "
                        "between its BEGIN and END lines).")
            if "ExtraData" in str(exc):
                return f"{what} has more after its end than one certificate holds (two certificates merged?)."
            return f"{what} is damaged: its text decodes, but not to a certificate."
    if ca and found.outside:
        number, line = found.outside[0]
        shown = line if len(line) <= 40 else line[:40] + "…"
        return (f"Line {number} (“{shown}”) is outside the -----BEGIN CERTIFICATE----- … -----END CERTIFICATE----- "
                f"blocks: the {field_name} should hold certificates only.")
    return None


def _not_a_certificate(block: Block, index: int, noun: str, ca: bool, field_name: str) -> str:
    key = is_key_label(block.label)
    if index == 0:
        if key and not ca:
            return (f"This is {_name(block.label)}, not a certificate: it goes in Private Key; paste the "
                    "certificate (-----BEGIN CERTIFICATE-----) here.")
        whose = "the CA's certificate" if ca else "the certificate"
        return f"This is {_name(block.label)}, not a {noun}: paste {whose} (-----BEGIN CERTIFICATE-----)."
    what = f"Block {index + 1} (line {block.begin}) is {_name(block.label)}"
    if key and not ca:
        return f"{what}: it goes in Private Key; keep only certificates in {field_name}."
    return f"{what}, not a {noun}: remove it, {field_name} holds certificates only."


def private_key_problem(text: str) -> str | None:
    """What is wrong with a PEM private key, in words, before cryptography reads it; None if nothing shows."""
    found = scan(text)
    if not found.blocks:
        return _no_begin(text, "PRIVATE KEY", "private key")
    block = found.blocks[0]
    if not is_key_label(block.label):
        if block.label == CERTIFICATE:
            return ("This is a certificate, not a private key: it goes in Certificate; paste the key "
                    "(-----BEGIN PRIVATE KEY-----) here.")
        return f"This is {_name(block.label)}, not a private key: paste the key (-----BEGIN PRIVATE KEY-----)."
    if block.label == "OPENSSH PRIVATE KEY":
        return ("This is an OpenSSH private key (ssh-keygen's format), which containerd cannot read: use the "
                "key made with the certificate, in PEM (-----BEGIN PRIVATE KEY-----).")
    if block.label == "ENCRYPTED PRIVATE KEY" or block.encrypted:
        return passphrase_problem()
    return _body_problem(block, "The private key")


def passphrase_problem() -> str:
    return ("This private key is protected by a passphrase; K3s and containerd need it without one: "
            "remove it (openssl pkey -in key.pem -out key-plain.pem) and paste the result.")


def private_key_error(exc: Exception) -> str:
    """cryptography's refusal of a key whose PEM looked whole, in words."""
    if "short data" in str(exc) or "ShortData" in str(exc):
        return ("The private key is cut off: its text ends before the key does (lines are missing between its "
                "BEGIN and END lines).")
    return ("The private key cannot be read: it is damaged, or of a kind regui does not take "
            "(RSA, EC and Ed25519 keys in PEM are).")
