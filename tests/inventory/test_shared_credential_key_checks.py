"""A shared credential's private key is read when it is typed (created or rotated), by the same check as
a node's own key (regui.inventory.key_checks): a pasted public key, a cut key, a key with other text
around it get the same words as on a node's form; an encrypted key needs its passphrase, and a wrong one
is said on the passphrase. Nothing is stored then, and the page never shows what was typed. Tried as a
careless user (or an attacker) would (tests/inventory/pastes.py)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils.html import escape

from regui.inventory.credentials.models import SharedCredential
from regui.inventory.credentials.services import credential_create
from regui.inventory.key_checks import NEEDS_PASSPHRASE, UNREADABLE_KEY, WRONG_PASSPHRASE
from tests.inventory.pastes import CARELESS_PASTES, crlf, ec_key, field_errors, shown
from tests.keys import ssh_key

pytestmark = pytest.mark.django_db

FORMS = ["create", "rotate"]
OLD_KEY = ssh_key("before-rotation")


@pytest.fixture
def rotated(make_user):
    """The credential a rotation would change (made before the test, with its old key)."""
    return credential_create(user=make_user("root-admin", "admin"), name="old", kind="key", value=OLD_KEY)


def _post(client, form: str, value: str, passphrase: str = "", kind: str = "key"):
    if form == "create":
        return client.post("/ssh-credentials/", {"name": "fleet", "kind": kind, "value": value,
                                                 "passphrase": passphrase})
    return client.post("/ssh-credentials/old/rotate/", {"kind": kind, "value": value, "passphrase": passphrase})


def _stored(form: str) -> tuple[str, str] | None:
    """The (value, passphrase) the form stored, None when it stored nothing."""
    name = "fleet" if form == "create" else "old"
    shared = SharedCredential.objects.filter(name=name).first()
    if shared is None or (form == "rotate" and shared.unseal_value()[0] == OLD_KEY):
        return None
    return shared.unseal_value()


def _refused(r, form: str, typed: str, field: str, said: str) -> bool:
    page = r.content.decode()
    other = "passphrase" if field == "value" else "value"
    return (r.status_code == 400 and field_errors(page, field) == [escape(said)] and field_errors(page, other) == []
            and shown(page, typed) == [] and _stored(form) is None)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("endings", ["LF", "CRLF"])
def test_a_readable_key_is_stored_with_lf_with_or_without_its_passphrase(admin_client, rotated, form, endings):
    for key, passphrase in ((ssh_key("good"), ""), (ssh_key("locked", "right-one"), "right-one")):
        SharedCredential.objects.filter(name="fleet").delete()
        assert _post(admin_client, form, crlf(key) if endings == "CRLF" else key, passphrase).status_code == 302
        assert _stored(form) == (key, passphrase)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", list(CARELESS_PASTES))
def test_what_a_node_form_refuses_the_shared_form_refuses_in_the_same_words(admin_client, rotated, form, case):
    typed, said = CARELESS_PASTES[case]
    assert _refused(_post(admin_client, form, crlf(typed)), form, typed, "value", said)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", list(CARELESS_PASTES))
def test_a_passphrase_typed_with_a_bad_paste_does_not_change_what_is_said(admin_client, rotated, form, case):
    typed, said = CARELESS_PASTES[case]
    assert _refused(_post(admin_client, form, typed, "some-passphrase"), form, typed, "value", said)


ENCRYPTED = {
    "OpenSSH": ssh_key("locked", "right-one"),
    "PEM": ec_key(serialization.PrivateFormat.TraditionalOpenSSL, "right-one"),
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("fmt", list(ENCRYPTED))
def test_an_encrypted_key_without_its_passphrase_asks_for_it(admin_client, rotated, form, fmt):
    typed = ENCRYPTED[fmt]
    assert _refused(_post(admin_client, form, typed), form, typed, "value", NEEDS_PASSPHRASE)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("fmt", list(ENCRYPTED))
def test_a_wrong_passphrase_is_said_on_the_passphrase_not_on_the_key(admin_client, rotated, form, fmt):
    typed = ENCRYPTED[fmt]
    assert _refused(_post(admin_client, form, typed, "wrong-one"), form, typed, "passphrase", WRONG_PASSPHRASE)
    assert _post(admin_client, form, typed, "right-one").status_code == 302


@pytest.mark.parametrize("form", FORMS)
def test_an_encrypted_pkcs8_key_is_unreadable_even_with_its_passphrase(admin_client, rotated, form):
    typed = ec_key(serialization.PrivateFormat.PKCS8, "right-one")
    for passphrase in ("", "right-one"):
        assert _refused(_post(admin_client, form, typed, passphrase), form, typed, "value", UNREADABLE_KEY)


@pytest.mark.parametrize("form", FORMS)
def test_an_empty_value_is_required(admin_client, rotated, form):
    r = _post(admin_client, form, "")
    assert r.status_code == 400 and field_errors(r.content.decode(), "value") == ["This field is required."]
    assert _stored(form) is None


@pytest.mark.parametrize("form", FORMS)
def test_a_body_over_the_request_limit_is_refused_before_any_check(admin_client, rotated, form):
    typed = ssh_key("huge") + "A" * settings.REGUI_MAX_REQUEST_BYTES
    r = _post(admin_client, form, typed)
    assert r.status_code == 413 and shown(r.content.decode(), typed) == [] and _stored(form) is None


@pytest.mark.parametrize("form", FORMS)
def test_a_password_is_never_parsed_as_a_key_and_has_no_passphrase(admin_client, rotated, form):
    password = "ssh-ed25519 AAAA is my odd password"
    r = _post(admin_client, form, password, "a-passphrase", kind="password")
    assert r.status_code == 400 and field_errors(r.content.decode(), "passphrase") == ["A password has no passphrase."]
    assert _post(admin_client, form, password, kind="password").status_code == 302
    assert _stored(form) == (password, "")
