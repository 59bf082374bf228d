from __future__ import annotations

from typing import Any

from django import forms

from regui.core.forms import WriteOnlyTextarea
from regui.inventory.key_checks import WRONG_PASSPHRASE, key_problem
from regui.registries.validation import pem_text

from .models import SharedCredential


def _value_field() -> forms.CharField:
    return forms.CharField(
        strip=False, label="Private key or password", help_text="Stored encrypted; never shown again.",
        widget=WriteOnlyTextarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off",
                                        "placeholder": "-----BEGIN OPENSSH PRIVATE KEY-----  (or the password)"}))


def _passphrase_field() -> forms.CharField:
    return forms.CharField(required=False, strip=False, label="Key passphrase",
                           help_text="Only for an encrypted private key.",
                           widget=forms.PasswordInput(attrs={"autocomplete": "off"}))


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """A key is checked as a node's own key is (regui.inventory.key_checks), with the passphrase typed
    with it: a wrong passphrase is said on the passphrase, anything else on the key."""
    if data.get("kind") == SharedCredential.Kind.KEY and data.get("value"):
        data["value"] = pem_text(data["value"])
        if problem := key_problem(data["value"], data.get("passphrase", "")):
            raise forms.ValidationError({"passphrase" if problem == WRONG_PASSPHRASE else "value": problem})
    elif data.get("passphrase"):
        raise forms.ValidationError({"passphrase": "A password has no passphrase."})
    return data


class SharedCredentialForm(forms.Form):
    name = forms.SlugField(max_length=63, help_text="e.g. fleet-root. Nodes show it by this name.")
    kind = forms.ChoiceField(choices=SharedCredential.Kind.choices, label="Credential")
    value = _value_field()
    passphrase = _passphrase_field()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if SharedCredential.objects.filter(name=name).exists():
            raise forms.ValidationError("A shared credential with this name exists already.")
        return name

    def clean(self) -> dict[str, Any]:
        return _clean(super().clean() or {})


class RotateForm(forms.Form):
    kind = forms.ChoiceField(choices=SharedCredential.Kind.choices, label="Credential")
    value = _value_field()
    passphrase = _passphrase_field()

    def clean(self) -> dict[str, Any]:
        return _clean(super().clean() or {})


class NodeCredentialForm(forms.Form):
    credential = forms.ModelChoiceField(
        queryset=SharedCredential.objects.all(), required=False, to_field_name="name",
        empty_label="its own credential", label="Log in with",
        help_text="A shared credential is made and rotated by an admin; its value is never shown.")
