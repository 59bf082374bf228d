"""The rolling policy: a cluster's defaults (on the cluster's form) and one push's choices (on the push form)."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import PushPolicy
from .plan import FAILURES_MAX, PAUSE_MAX, parse_at_once


def _clean_at_once(text: str) -> str:
    text = (text or "").strip().replace(" ", "")
    if text:
        try:
            parse_at_once(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
    return text


class PushPolicyForm(forms.ModelForm):
    """A cluster's defaults; every push may choose otherwise."""

    class Meta:
        model = PushPolicy
        fields = list(PushPolicy.AUDIT_FIELDS)
        widgets = {"agents_at_once": forms.TextInput(attrs={"placeholder": "10 or 25%", "size": 8}),
                   "max_failures": forms.NumberInput(attrs={"min": 0, "max": FAILURES_MAX}),
                   "pause_seconds": forms.NumberInput(attrs={"min": 0, "max": PAUSE_MAX})}

    def clean_agents_at_once(self) -> str:
        return _clean_at_once(self.cleaned_data.get("agents_at_once", ""))

    def clean_max_failures(self) -> int:
        value = self.cleaned_data.get("max_failures") or 0
        if value > FAILURES_MAX:
            raise forms.ValidationError(f"At most {FAILURES_MAX}.")
        return value

    def clean_pause_seconds(self) -> int:
        value = self.cleaned_data.get("pause_seconds") or 0
        if value > PAUSE_MAX:
            raise forms.ValidationError(f"At most {PAUSE_MAX} s (a day).")
        return value


READY_CHOICES = [("", "as the cluster says"), ("1", "wait for Ready"), ("0", "systemctl is-active only")]


class PushChoicesForm(forms.Form):
    """One push's rolling policy; a field left empty takes the cluster's default."""

    # Labelled as templates/pushes/partials/_push_choices.html shows them: the refusal names them so.
    agents_at_once = forms.CharField(required=False, max_length=8, label="Agents at once")
    max_failures = forms.IntegerField(required=False, min_value=0, max_value=FAILURES_MAX, label="Stop after failures")
    pause_seconds = forms.IntegerField(required=False, min_value=0, max_value=PAUSE_MAX,
                                       label="Pause between batches (s)")
    ready_gate = forms.ChoiceField(required=False, choices=READY_CHOICES, label="Health after a restart")

    def clean_agents_at_once(self) -> str:
        return _clean_at_once(self.cleaned_data.get("agents_at_once", ""))

    def overrides(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["ready_gate"] = {"": None, "1": True, "0": False}[data.get("ready_gate") or ""]
        return {k: v for k, v in data.items() if v not in (None, "")}

    def problems(self) -> str:
        said = []
        for name, errors in self.errors.items():
            label, text = str(self.fields[name].label), " ".join(str(e) for e in errors)
            said.append(text if text.startswith(label) else f"{label}: {text}")
        return "; ".join(said)
