"""A node's own private key is read when it is typed (add, edit, bulk add, import): a key regui could not
log in with is a form error on the credential, nothing is saved, and the page never shows what was typed.
A node's own key has no passphrase field, so an encrypted key is refused with a way out. Tried as a
careless user (or an attacker) would (tests/inventory/pastes.py): garbage, a cut key, a key with other
text around it, the public half, an encrypted one, one past the size limit."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regui.inventory.key_checks import (
    ENCRYPTED_KEY,
    EXTRA_TEXT,
    NOT_A_KEY,
    PUBLIC_KEY,
    TOO_LONG,
    UNREADABLE_KEY,
    key_problem,
)
from regui.inventory.models import Node
from tests.inventory.pastes import CARELESS_PASTES, crlf, ec_key, field_errors, shown
from tests.keys import ssh_key

db = pytest.mark.django_db

FORMS = ["node", "bulk", "import"]


def _post(client, form: str, credential: str, kind: str = "key"):
    if form == "node":
        return client.post("/clusters/prod/nodes/new/", {
            "name": "n1", "address": "10.9.0.1", "port": "22", "role": "agent", "ssh_user": "root",
            "credential_kind": kind, "credential": credential, "labels_text": ""})
    if form == "bulk":
        return client.post("/clusters/prod/nodes/bulk/", {
            "lines": "n1 10.9.0.1 agent", "ssh_user": "root", "credential_kind": kind, "credential": credential})
    return client.post("/clusters/prod/nodes/import-inventory/confirm/", {
        "text": "[agent]\n10.9.0.1\n", "format": "ini", "ssh_user": "root", "credential_kind": kind,
        "credential": credential, "shared_credential": ""})


def _edit(client, node: Node, credential: str):
    return client.post(f"/clusters/prod/nodes/{node.pk}/edit/", {
        "name": node.name, "address": node.address, "port": str(node.port), "role": node.role,
        "ssh_user": node.ssh_user, "credential_kind": "key", "credential": credential, "labels_text": ""})


BAD_KEYS = {
    **CARELESS_PASTES,
    "an encrypted OpenSSH key": (ssh_key("locked", "its-passphrase"), ENCRYPTED_KEY),
    "an encrypted PEM key": (ec_key(serialization.PrivateFormat.TraditionalOpenSSL, "pw-9"), ENCRYPTED_KEY),
    "an encrypted PKCS#8 key": (ec_key(serialization.PrivateFormat.PKCS8, "pw-9"), ENCRYPTED_KEY),
}


@db
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("endings", ["LF", "CRLF"])
def test_a_real_key_is_accepted_and_stored_with_lf_on_every_form(operator_client, cluster, form, endings):
    key = ssh_key("good")
    r = _post(operator_client, form, crlf(key) if endings == "CRLF" else key)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Node.objects.get().unseal_credential() == key


@db
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", list(BAD_KEYS))
def test_a_key_regui_cannot_read_is_a_credential_error_and_nothing_is_saved(operator_client, cluster, form, case):
    typed, said = BAD_KEYS[case]
    r = _post(operator_client, form, crlf(typed))
    page = r.content.decode()
    assert r.status_code == 400 and field_errors(page, "credential") == [escape(said)]
    assert shown(page, typed) == [], "the page shows what was typed"
    assert not Node.objects.exists()


@db
def test_an_encrypted_key_is_refused_with_the_two_ways_out(operator_client, cluster):
    page = _post(operator_client, "node", ssh_key("locked", "its-passphrase")).content.decode()
    assert "unencrypted key" in page and "shared credential" in page and "passphrase" in page


@db
@pytest.mark.parametrize("form", FORMS)
def test_a_password_is_never_parsed_as_a_key(operator_client, cluster, form):
    password = "-----BEGIN OPENSSH PRIVATE KEY----- is my odd password"
    assert _post(operator_client, form, password, kind="password").status_code == 302
    assert Node.objects.get().unseal_credential() == password


@db
def test_the_edit_form_keeps_the_stored_key_when_blank_and_refuses_a_bad_new_one(operator_client, cluster):
    assert _post(operator_client, "node", ssh_key("first")).status_code == 302
    node = Node.objects.get()
    assert _edit(operator_client, node, "").status_code == 302
    assert Node.objects.get().unseal_credential() == ssh_key("first")
    for typed, said in (BAD_KEYS["a real key cut short"], BAD_KEYS["an encrypted OpenSSH key"]):
        r = _edit(operator_client, node, typed)
        page = r.content.decode()
        assert r.status_code == 400 and field_errors(page, "credential") == [escape(said)] and shown(page, typed) == []
        assert Node.objects.get().unseal_credential() == ssh_key("first"), "a refused edit changes nothing"
    assert _edit(operator_client, node, crlf(ssh_key("second"))).status_code == 302
    assert Node.objects.get().unseal_credential() == ssh_key("second")


@db
@pytest.mark.parametrize("form", FORMS)
def test_a_good_key_is_not_shown_again_when_another_field_is_wrong(operator_client, cluster, form):
    key = ssh_key("good")
    if form == "node":
        r = operator_client.post("/clusters/prod/nodes/new/", {
            "name": "n1", "address": "10.9.0.1", "port": "70000", "role": "agent", "ssh_user": "root",
            "credential_kind": "key", "credential": key})
    elif form == "bulk":
        r = operator_client.post("/clusters/prod/nodes/bulk/", {
            "lines": "n1 10.9.0.1 nonsense-role", "ssh_user": "root", "credential_kind": "key", "credential": key})
    else:
        r = operator_client.post("/clusters/prod/nodes/import-inventory/confirm/", {
            "text": "[agent]\n10.9.0.1\n", "format": "ini", "ssh_user": "root", "credential_kind": "key",
            "credential": key, "shared_credential": "nobody"})
    assert r.status_code == 400 and shown(r.content.decode(), key) == []
    assert not Node.objects.exists()


_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_MESSAGES = {None, NOT_A_KEY, PUBLIC_KEY, TOO_LONG, EXTRA_TEXT, ENCRYPTED_KEY, UNREADABLE_KEY}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(_BASE64)), min_size=1, max_size=4),
       keep=st.integers(min_value=1, max_value=400))
def test_a_mangled_real_key_is_a_message_never_an_exception(changes, keep):
    key = ssh_key("fuzzed")
    head, body, tail = key.partition("\n")[0], "".join(key.splitlines()[1:-1]), key.splitlines()[-1]
    body = list(body[:keep])
    for at, char in changes:
        body[at % len(body)] = char
    text = "\n".join([head, "".join(body), tail]) + "\n"
    assert key_problem(text) in _MESSAGES


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blob=st.binary(max_size=600), label=st.sampled_from(["OPENSSH", "RSA", "EC"]))
def test_any_bytes_in_a_key_envelope_are_a_message_never_an_exception(blob, label):
    text = (f"-----BEGIN {label} PRIVATE KEY-----\n{base64.b64encode(blob).decode()}\n"
            f"-----END {label} PRIVATE KEY-----\n")
    assert key_problem(text) in (UNREADABLE_KEY, ENCRYPTED_KEY)
