"""What is wrong with pasted PEM, said in words instead of cryptography's internals (issue 11 item 12)."""

from __future__ import annotations

import pytest

from regui.registries import validation as v
from tests.certs import key_and_cert

KEY, CERT = key_and_cert()
LINES = CERT.splitlines()
KEY_LINES = KEY.splitlines()
END = "-----END CERTIFICATE-----"


def _no_internals(message: str) -> None:
    for word in ("ParseError", "ShortData", "MalformedFraming", "InvalidData", "cryptography.io", "asn1"):
        assert word not in message


@pytest.mark.parametrize("check", [v.check_ca_bundle, v.check_certificate])
def test_a_certificate_cut_before_its_end_line_is_said_to_be_cut_off(check):
    message = check(CERT[:200])
    assert "cut off (the text ends before -----END CERTIFICATE-----)" in message
    _no_internals(message)


@pytest.mark.parametrize("check", [v.check_ca_bundle, v.check_certificate])
def test_lines_lost_between_begin_and_end_are_said_to_be_missing(check):
    # Whole base64 lines gone: the PEM frame is fine and the DER inside runs out (cryptography's ShortData).
    message = check("\n".join(LINES[:4]) + "\n" + END + "\n")
    assert "cut off" in message and "lines are missing between its BEGIN and END lines" in message
    _no_internals(message)


def test_a_line_cut_short_is_said_to_lose_characters():
    message = v.check_ca_bundle(CERT[: len(CERT) // 2] + "\n" + END + "\n")
    assert "missing characters" in message
    _no_internals(message)


def test_a_character_base64_does_not_use_is_named_with_its_line():
    message = v.check_ca_bundle(CERT.replace(LINES[3], "!" + LINES[3][1:]))
    assert message.startswith("Line 4 of the CA certificate has “!”, which base64 does not use")


def test_a_space_inside_a_line_is_named_as_a_space():
    assert "has a space" in v.check_certificate(CERT.replace(LINES[2], LINES[2][:8] + " " + LINES[2][9:]))


def test_a_private_key_pasted_as_a_ca_says_so_in_words():
    assert v.check_ca_bundle(KEY) == ("This is a private key, not a CA certificate: paste the CA's certificate "
                                      "(-----BEGIN CERTIFICATE-----).")


def test_a_private_key_after_the_certificates_of_a_bundle_is_named_by_its_block_and_line():
    message = v.check_ca_bundle(CERT + KEY)
    assert message.startswith(f"Block 2 (line {len(LINES) + 1}) is a private key, not a CA certificate")


def test_a_private_key_in_a_tls_secrets_certificate_is_sent_to_its_own_field():
    # The certificate is stored and shown unencrypted: a key pasted with it must not stay there.
    assert "it goes in Private Key" in v.check_certificate(CERT + KEY)
    assert "it goes in Private Key" in v.check_certificate(KEY)


def test_a_certificate_pasted_as_the_private_key_says_so():
    assert v.check_private_key(CERT).startswith("This is a certificate, not a private key")


def test_a_certificate_signing_request_is_not_a_certificate():
    csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
    assert v.check_ca_bundle(csr).startswith("This is a certificate signing request (CSR), not a CA certificate")


def test_the_base64_body_alone_is_asked_for_with_its_begin_and_end_lines():
    message = v.check_ca_bundle("\n".join(LINES[1:-1]))
    assert "without the -----BEGIN CERTIFICATE----- and -----END CERTIFICATE----- lines" in message
    assert "without the -----BEGIN PRIVATE KEY-----" in v.check_private_key("\n".join(KEY_LINES[1:-1]))


def test_text_that_is_not_pem_at_all_says_what_pem_starts_with():
    assert v.check_ca_bundle("hello") == "This is not a PEM CA certificate: it should start with -----BEGIN CERTIFICATE-----."


def test_a_damaged_begin_line_is_named():
    assert "BEGIN CERTIFICATE----- line is damaged" in v.check_certificate(CERT.replace("-----BEGIN", "----BEGIN"))


def test_base64_that_is_not_a_certificate_is_damaged_not_a_parse_error():
    message = v.check_ca_bundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
    assert message == "The CA certificate is damaged: its text decodes, but not to a certificate."


def test_in_a_bundle_the_broken_certificate_is_numbered():
    assert v.check_ca_bundle(CERT + CERT[:200]).startswith("CA certificate 2 is cut off")
    assert v.check_certificate(CERT + CERT[:200]).startswith("Certificate 2 is cut off")


def test_a_key_cut_before_its_end_line_is_said_to_be_cut_off():
    assert v.check_private_key(KEY[:100]) == ("The private key is cut off (the text ends before "
                                              "-----END PRIVATE KEY-----).")


def test_a_key_missing_whole_lines_is_said_to_be_cut_off():
    message = v.check_private_key("\n".join([KEY_LINES[0], KEY_LINES[1], KEY_LINES[-1]]) + "\n")
    assert message.startswith("The private key is cut off: its text ends before the key does")
    _no_internals(message)


@pytest.mark.parametrize("key", [
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
    "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMIIB\n-----END RSA PRIVATE KEY-----\n",
])
def test_a_key_with_a_passphrase_is_asked_for_without_one(key):
    assert "protected by a passphrase" in v.check_private_key(key)


def test_an_openssh_key_is_named_as_one():
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
    assert v.check_private_key(key).startswith("This is an OpenSSH private key")


def test_whole_certificates_and_keys_still_pass():
    assert v.check_ca_bundle(CERT + CERT) is None
    assert v.check_certificate(CERT) is None
    assert v.check_private_key(KEY) is None
