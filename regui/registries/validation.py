"""Field checks Rancher does not make. Pure Python: each returns an error message or None."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import re2
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from regui.k3s.limits import size_text

from .pem_words import certificate_problem, passphrase_problem, private_key_error, private_key_problem

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_HOSTPORT = re.compile(r"(?P<host>\[[^\]]*\]|[^:/\[\]]+)(?::(?P<port>[^:/]*))?")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
# Go regexp.Expand: `$name` takes the longest run of letters, digits and `_`.
_EXPAND_REF = re.compile(r"\$(?:\{(?P<braced>[^}]*)\}|(?P<bare>[A-Za-z0-9_]+)|(?P<dollar>\$))")

# TLS material regui keeps, writes into every revision and to each node on every push. A CA bundle
# needs only the CAs a registry's chain ends in; Debian's whole system bundle (ca-certificates.crt,
# 144 CAs) is 215 KiB, and this is twice that with room to spare: a paste beyond it is not a CA bundle
# nor a chain, and would make each revision and push megabytes.
MAX_CERTIFICATES_BYTES = 512 * 1024
# The largest RSA key OpenSSL works with (16384 bits) is about 12.6 KB of PEM.
MAX_PRIVATE_KEY_BYTES = 16 * 1024


def _check_host(host: str) -> str | None:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f"“{host}” is not a valid IPv6 address in brackets."
        return None
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"“{host}” is not a valid IPv4 address."
        return None
    if len(host) > 253 or not _DNS.fullmatch(host):
        return f"“{host}” is not a valid host name (letters, digits, '-' and '.', labels up to 63)."
    return None


def _check_port(port: str | None) -> str | None:
    if port is None:
        return None
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        return f"Port “{port}” must be a number from 1 to 65535."
    return None


def check_hostname(value: str) -> str | None:
    """A registry hostname: host[:port] as it appears in image names, or the wildcard `*`."""
    if not value:
        return "Registry Hostname is required."
    if value == "*":
        return None
    if value != value.strip():
        return "Remove the spaces around the hostname."
    if "://" in value or "/" in value:
        return "Give only host[:port] here (no scheme, no path): e.g. registry.example.com:5000."
    m = _HOSTPORT.fullmatch(value)
    if not m:
        return f"“{value}” is not host[:port]."
    return _check_host(m["host"]) or _check_port(m["port"])


def check_endpoint(value: str) -> str | None:
    if not value:
        return "Enter an endpoint URL or remove this row."
    if value != value.strip() or any(c.isspace() for c in value):
        return "An endpoint URL cannot contain spaces."
    if "://" in value:
        scheme = value.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            return f"Scheme “{scheme}” is not supported: use http:// or https://."
        url = value
    else:
        url = "https://" + value
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        return f"Not a valid URL: {exc}."
    if parts.username is not None or "@" in parts.netloc:
        return "Do not put credentials in the URL: use Registry Authentication for this host."
    if parts.query or parts.fragment or "?" in value or "#" in value:
        return "An endpoint takes no query (?…) or fragment (#…)."
    netloc = parts.netloc
    m = _HOSTPORT.fullmatch(netloc)
    if not netloc or not m:
        return "The URL has no valid host."
    del port
    return _check_host(m["host"]) or _check_port(m["port"])


def compile_rewrite(pattern: str) -> re2._Regexp[str]:
    return re2.compile(pattern, _RE2_OPTIONS)


def check_rewrite_pattern(pattern: str) -> str | None:
    if not pattern:
        return "Enter a rewrite pattern or remove this row."
    if "\\" in pattern or '"' in pattern:
        return (
            "K3s writes patterns into hosts.toml without escaping, so a \\ or \" makes the whole file "
            "invalid and containerd ignores it. Use a character class instead, e.g. [.] or [0-9]."
        )
    try:
        compile_rewrite(pattern)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        return f"Go's regexp (RE2) cannot compile this pattern: {reason}. Lookarounds and backreferences are not supported."
    return None


def check_rewrite_replacement(replacement: str, pattern: str) -> str | None:
    if "\\" in replacement or '"' in replacement:
        return "K3s writes replacements into hosts.toml without escaping: a \\ or \" breaks the file."
    try:
        regex = compile_rewrite(pattern)
    except re2.error:
        regex = None
    for m in _EXPAND_REF.finditer(replacement):
        name = m["braced"] if m["braced"] is not None else m["bare"]
        if name is None:
            continue
        if m["bare"] is not None and name[0].isdigit() and not name.isdigit():
            digits = name[: len(name) - len(name.lstrip("0123456789"))]
            return (
                f"Go reads “${name}” as the group named “{name}”, which is empty. "
                f"Write “${{{digits}}}{name[len(digits):]}” to follow group {digits} with text."
            )
        if regex is None:
            continue
        if name.isdigit():
            if int(name) > regex.groups:
                return f"“${name}” refers to group {name}, but the pattern has {regex.groups} group(s)."
        elif name not in regex.groupindex:
            return f"“${name}” refers to a group named “{name}” that the pattern does not define."
    return None


def pem_text(text: str) -> str:
    """PEM text as regui stores it and writes it to nodes: LF line endings only.

    Browsers submit a textarea with CRLF line endings (HTML form encoding) and files made on Windows
    have them too; OpenSSL reads either, but a CR in a node's key or certificate file surprises other
    readers (shell tools, diffs, sha256 comparisons with the same PEM typed elsewhere)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _too_big(text: str, limit: int, what: str, hint: str) -> str | None:
    # Before any parsing: PEM past the limit is refused at the cost of its length.
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= limit:
        return None
    return f"{what} is {size // 1024} KiB; regui keeps at most {size_text(limit)} here. {hint}"


def check_ca_bundle(pem: str) -> str | None:
    text = pem.strip()
    if not text:
        return None
    if problem := _too_big(text, MAX_CERTIFICATES_BYTES, "This CA Cert Bundle",
                           "Give the CAs the registry's certificate is signed by (Debian's whole system "
                           "bundle is 215 KiB)."):
        return problem
    if problem := certificate_problem(text, ca=True, field_name="CA Cert Bundle"):
        return problem
    return _unreadable_certificates(text, "The CA Cert Bundle")


def ca_bundle_without_ca(pem: str) -> tuple[str, str, str] | None:
    """(subject, why, issuer) of a CA bundle's first certificate when none of them is a CA certificate
    (the registry's own certificate given instead of its CA's); None for a CA among them, or unreadable
    text (check_ca_bundle says that)."""
    try:
        certs = x509.load_pem_x509_certificates(pem.strip().encode()) if pem.strip() else []
    except ValueError:
        return None
    whys = []
    for cert in certs:
        try:
            if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                return None
            whys.append("CA:FALSE")
        except x509.ExtensionNotFound:
            whys.append("no CA basic constraint")
        except ValueError:  # an extension cryptography cannot parse: not ours to judge
            return None
    if not certs:
        return None
    return certs[0].subject.rfc4514_string(), whys[0], certs[0].issuer.rfc4514_string()


def check_certificate(pem: str) -> str | None:
    if not pem.strip():
        return "Certificate is required."
    if problem := _too_big(pem.strip(), MAX_CERTIFICATES_BYTES, "This certificate chain",
                           "Give the client certificate and the intermediate CAs it needs."):
        return problem
    if problem := certificate_problem(pem.strip()):
        return problem
    return _unreadable_certificates(pem.strip(), "The certificate")


def _unreadable_certificates(text: str, what: str) -> str | None:
    # pem_words found each block whole; whatever cryptography still refuses is said without its internals.
    try:
        x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        return f"{what} cannot be read as PEM certificates, though each block looks whole."
    return None


def check_private_key(pem: str) -> str | None:
    if problem := _too_big(pem.strip(), MAX_PRIVATE_KEY_BYTES, "This private key",
                           "An RSA key of 16384 bits, the largest OpenSSL uses, is about 13 KB."):
        return problem
    if problem := private_key_problem(pem.strip()):
        return problem
    try:
        serialization.load_pem_private_key(pem.strip().encode(), password=None)
    except TypeError:  # "Password was not given but private key is encrypted"
        return passphrase_problem()
    except (ValueError, UnsupportedAlgorithm) as exc:
        return private_key_error(exc)
    return None


def check_key_matches_certificate(key_pem: str, cert_pem: str) -> str | None:
    try:
        key = serialization.load_pem_private_key(key_pem.strip().encode(), password=None)
        cert = x509.load_pem_x509_certificates(cert_pem.strip().encode())[0]
    except (ValueError, TypeError, IndexError):
        return None  # the individual field checks report unreadable input
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*fmt) != cert.public_key().public_bytes(*fmt):
        return "This private key does not belong to the certificate (their public keys differ)."
    return None


def endpoint_identity(value: str) -> str:
    """What K3s compares when it drops duplicate endpoints: scheme, host and API root."""
    url = value if "://" in value else "https://" + value
    parts = urlsplit(url)
    path = parts.path.rstrip("/") if parts.path in ("", "/") else parts.path
    if path in ("", "/v2"):
        path = "/v2"
    return f"{parts.scheme.lower()}://{parts.netloc}{path}"
