from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User

from .roles import ROLES

ROLE_CHOICES = [(r, r.capitalize()) for r in ROLES]


class UserCreateForm(UserCreationForm):
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="viewer")

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # django-stubs omit this Meta
        model = User
        fields = ("username",)


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(choices=[("", "No access")] + ROLE_CHOICES, required=False)
    is_active = forms.BooleanField(required=False, label="Active")


class WriteOnlyTextarea(forms.Textarea):
    """A textarea for a secret (a private key, a password): a page re-shown with a form error leaves it
    empty instead of echoing what was typed."""

    def format_value(self, value: Any) -> None:
        return None


class WriteOnlyURLInput(forms.URLInput):
    """A URL that is a secret (a webhook with a token in it): never shown back, not even the one just
    typed on a page re-shown with a form error."""

    def format_value(self, value: Any) -> None:
        return None
