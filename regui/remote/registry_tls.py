"""TLS for the registry probe: containerd's client configuration of a host made into an ssl context,
the certificate a server shows, and what went wrong in a handshake, in words. Pure Python (no Django)."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import tempfile
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509


@dataclass(frozen=True)
class TLSMaterial:
    ca_pem: str = ""  # trusted on top of the system CAs (containerd appends to the system pool)
    ca_label: str = ""
    client_cert_pem: str = ""
    client_key_pem: str = field(default="", repr=False)
    client_label: str = ""
    skip_verify: bool = False


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    not_before: str
    not_after: str
    names: tuple[str, ...]

    @property
    def words(self) -> str:
        issued = "self-signed" if self.subject == self.issuer else f"issued by {self.issuer}"
        names = f"for {', '.join(self.names)}" if self.names else "no subject alternative names"
        return f"subject {self.subject or '(empty)'}, {issued}, valid {self.not_before} to {self.not_after}, {names}"


def certificate_info(der: bytes) -> CertInfo | None:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple([f"DNS {n}" for n in sans.get_values_for_type(x509.DNSName)]
                      + [f"IP {ip}" for ip in sans.get_values_for_type(x509.IPAddress)])
    except (x509.ExtensionNotFound, ValueError):
        names = ()
    return CertInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                    f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M}", f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
                    names)


def tls_context(material: TLSMaterial) -> ssl.SSLContext:
    """The client side of containerd's TLS config for a host; raises ssl.SSLError/ValueError."""
    ctx = ssl.create_default_context()  # the system CAs, as containerd's SystemCertPool
    if material.skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if material.ca_pem:
        ctx.load_verify_locations(cadata=material.ca_pem)
    if material.client_cert_pem or material.client_key_pem:
        # load_cert_chain reads files only: a private directory (0700), the key 0600, gone at once.
        folder = tempfile.mkdtemp(prefix="regui-tls-")
        try:
            cert, key = os.path.join(folder, "tls.crt"), os.path.join(folder, "tls.key")
            for path, text in ((cert, material.client_cert_pem), (key, material.client_key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as out:
                    out.write(text)
            ctx.load_cert_chain(cert, key)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return ctx


NOT_TLS = ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER", "PACKET_LENGTH")


def not_tls(e: ssl.SSLError) -> bool:
    return any(s in str(e.reason or "").upper() for s in NOT_TLS)




def material_words(e: Exception, tls: TLSMaterial) -> str:
    """Why the host's TLS material cannot make a context (never quoting it)."""
    reason = getattr(e, "reason", None) or type(e).__name__
    if "KEY_VALUES_MISMATCH" in str(reason):
        return f"the client key does not match the client certificate ({tls.client_label}) [{reason}]"
    if tls.client_cert_pem and ("PEM" in str(reason) or "KEY" in str(reason)):
        return f"the client certificate or key of {tls.client_label} is not readable PEM [{reason}]"
    return f"the CA bundle ({tls.ca_label}) holds no usable certificate [{reason}]"


def trusted_words(tls: TLSMaterial) -> str:
    return f"the system CAs and {tls.ca_label}" if tls.ca_pem else "the system CAs (no CA is configured for this host)"


def peer_certificate(sockaddr: Any, host: str, timeout: float) -> CertInfo | None:
    """The certificate a server shows, read in a second handshake that verifies nothing."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(sockaddr[:2], timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    except OSError:
        return None
    return certificate_info(der) if der else None


def verify_words(e: ssl.SSLCertVerificationError, netloc: str, host: str, info: CertInfo | None,
                 tls: TLSMaterial) -> str:
    """A refused server certificate: which one (its subject, issuer, validity, names) and why."""
    code, message = e.verify_code, e.verify_message
    cert = f"({info.words})" if info else ""
    issuer = info.issuer if info else "its issuer"
    names = f": it is for {', '.join(info.names)}" if info and info.names else ""
    trusted = trusted_words(tls)
    why = {
        2: f"its issuer ({issuer}) is not among the trusted CAs: {trusted}",
        9: f"it is not valid yet (valid from {info.not_before if info else '?'})",
        10: f"it has expired (valid until {info.not_after if info else '?'})",
        18: f"it is self-signed, and not among the trusted certificates: {trusted}",
        19: f"its chain ends in a self-signed CA that is not trusted: {trusted}",
        20: f"its issuer ({issuer}) is not among the trusted CAs: {trusted}",
        21: f"its issuer ({issuer}) is not among the trusted CAs, and the server sent no chain: {trusted}",
        62: f"it is not valid for the name {host}{names}",
        64: f"it is not valid for the address {host}{names}",
    }.get(code, message)
    return f"TLS failure: the certificate of {netloc} {cert} is not accepted: {why} [OpenSSL: {message}]"


def handshake_words(e: ssl.SSLError, netloc: str, tls: TLSMaterial) -> str:
    """Any other TLS failure: no TLS at all, a client certificate wanted or refused, a closed connection."""
    reason = str(e.reason or "").upper()
    if not_tls(e):
        return (f"TLS failure: {netloc} does not answer in TLS (a plain-HTTP registry? its endpoint "
                f"would then be http://) [{e.reason}]")
    wants_client = "CERTIFICATE_REQUIRED" in reason or (
        "ALERT" in reason and not tls.client_cert_pem and any(s in reason for s in ("HANDSHAKE_FAILURE", "BAD_CERTIFICATE")))
    if wants_client:
        if tls.client_cert_pem:
            return f"TLS failure: {netloc} refused the client certificate of {tls.client_label} [{e.reason}]"
        return f"TLS failure: {netloc} asks for a client certificate, and none is configured for this host [{e.reason}]"
    if "ALERT" in reason and tls.client_cert_pem:
        return (f"TLS failure: {netloc} refused the handshake; it may not trust the client certificate "
                f"of {tls.client_label} [{e.reason}]")
    if isinstance(e, ssl.SSLEOFError) or "EOF" in reason:
        return closed_words(netloc, tls)
    return f"TLS failure with {netloc}: {e.reason or e}"


def closed_words(netloc: str, tls: TLSMaterial) -> str:
    text = f"TLS failure: {netloc} closed the connection during the handshake"
    if not tls.client_cert_pem:
        text += " (a registry that requires a client certificate does that, and none is configured for this host)"
    return text
