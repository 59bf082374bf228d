from __future__ import annotations

from typing import Any

from django import forms

from regui.inventory.credentials.models import SharedCredential
from regui.inventory.forms import HostForm

from .models import JumpHost
from .services import CLUSTERS, cluster_jump_host


class JumpHostForm(HostForm):
    credential = forms.ModelChoiceField(
        queryset=SharedCredential.objects.all(), to_field_name="name", label="Credential",
        help_text="A shared SSH credential; the jump host gets it, the nodes behind it get their own.")
    labels_text = forms.CharField(required=False, label="Labels", help_text="e.g. site=dc1, zone=a")

    class Meta:
        model = JumpHost
        fields = ["name", "address", "port", "ssh_user", "credential"]
        labels = {"name": "Name", "address": "Address", "port": "Port", "ssh_user": "SSH user"}
        help_texts = {"name": "e.g. bastion-1. Errors and history name it.",
                      "address": "Host name or IP address regui connects to. Changing it, or the port, drops "
                                 "the approved host key."}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name == "new":  # the URL of the page that adds one
            raise forms.ValidationError("Choose another name.")
        return name

    def save(self, commit: bool = True) -> JumpHost:
        jump: JumpHost = super().save(commit=False)
        jump.labels = self.cleaned_data["labels_text"]
        if commit:
            jump.save()
        return jump


class ClusterJumpHostForm(forms.Form):
    jump_host = forms.ModelChoiceField(
        queryset=JumpHost.objects.all(), required=False, to_field_name="name", label="Jump host",
        empty_label="none: connect to the nodes directly",
        help_text="Every node of the cluster is reached through it, unless the node names its own.")


class NodeJumpHostForm(forms.Form):
    jump_host = forms.ChoiceField(label="Jump host")

    def __init__(self, *args: Any, node: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clusters = cluster_jump_host(node.cluster)
        field = self.fields["jump_host"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(CLUSTERS, f"the cluster's ({clusters.name if clusters else 'none'})"),
                         ("", "none: connect directly"),
                         *((j.name, j.name) for j in JumpHost.objects.order_by("name"))]
        field.required = False

    def clean_jump_host(self) -> str | JumpHost | None:
        value = self.cleaned_data["jump_host"]
        if value == CLUSTERS:
            return CLUSTERS
        if not value:
            return None
        jump = JumpHost.objects.filter(name=value).first()
        if jump is None:
            raise forms.ValidationError("No such jump host.")
        return jump
