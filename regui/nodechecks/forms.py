from __future__ import annotations

from django import forms

from .models import PullTest


class PullTestForm(forms.Form):
    image = forms.CharField(max_length=512, label="Image", strip=True,
                            widget=forms.TextInput(attrs={"placeholder": "docker.io/library/busybox:1.36",
                                                          "spellcheck": "false", "class": "mono"}),
                            help_text="Pulled on the node through the hosts.toml files its K3s or RKE2 wrote, then removed.")
    keep = forms.BooleanField(required=False, label="Keep the image on the node")
    tool = forms.ChoiceField(choices=PullTest.Tool.choices, initial=PullTest.Tool.AUTO, label="Pull with")
