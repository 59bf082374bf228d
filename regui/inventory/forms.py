from __future__ import annotations

from typing import Any

from django import forms

from regui.core.forms import WriteOnlyTextarea
from regui.inventory.credentials.models import NodeCredential, SharedCredential
from regui.registries.validation import pem_text

from .addresses import address_problem, user_problem
from .key_checks import key_problem
from .models import Node
from .services import parse_bulk

CREDENTIAL_HELP = ("Stored encrypted; never shown again. Leave blank to keep the stored one, unless you change "
                   "the address, port or SSH user: that drops the stored credential and the approved host key.")
MOVED_NEEDS_CREDENTIAL = ("You changed the address, port or SSH user: the stored credential is never sent to a "
                          "different host. Enter it again (the host key will need a new approval too).")


def _credential_field() -> forms.CharField:
    return forms.CharField(
        required=False, strip=False, label="Private key or password",
        widget=WriteOnlyTextarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off",
                                        "placeholder": "-----BEGIN OPENSSH PRIVATE KEY-----  (or the password)"}),
    )


def _clean_credential(form: forms.BaseForm, data: dict[str, Any]) -> None:
    """A private key is PEM and is stored with LF line endings like all PEM (browsers send CRLF), once
    regui can read it; a password is someone's exact secret and is kept as typed, never parsed."""
    if data.get("credential") and data.get("credential_kind") == Node.Credential.KEY:
        data["credential"] = pem_text(data["credential"])
        if problem := key_problem(data["credential"]):  # no passphrase: a node's own key has none
            form.add_error("credential", problem)


def checked_address(value: str) -> str:
    if problem := address_problem(value):
        raise forms.ValidationError(problem)
    return value.strip("[]")


def checked_user(value: str) -> str:
    if problem := user_problem(value):
        raise forms.ValidationError(problem)
    return value


def _parse_labels(text: str) -> dict[str, str]:
    labels = {}
    for part in filter(None, (p.strip() for p in text.replace("\n", ",").split(","))):
        key, _, value = part.partition("=")
        if not key.strip():
            raise forms.ValidationError(f"Label {part!r} has no name.")
        labels[key.strip()] = value.strip()
    return labels


class FlagSelect(forms.NullBooleanSelect):
    """A node's agent flag: its cluster's (None), on or off."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", "the cluster's"), ("true", "on"), ("false", "off")]


FLAG_FIELDS = ("disable_default_registry_endpoint", "embedded_registry")


class HostForm(forms.ModelForm):
    """What a node's and a jump host's forms check alike: where regui connects, as whom, and the labels
    (each declares its own `labels_text` field, so the fields keep their order)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["labels_text"].initial = self.instance.labels_text if self.instance.pk else ""

    def clean_port(self) -> int:
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise forms.ValidationError("Port must be from 1 to 65535.")
        return port

    def clean_address(self) -> str:
        return checked_address(self.cleaned_data["address"])

    def clean_ssh_user(self) -> str:
        return checked_user(self.cleaned_data["ssh_user"])

    def clean_labels_text(self) -> dict[str, str]:
        return _parse_labels(self.cleaned_data["labels_text"])


class NodeForm(HostForm):
    credential = _credential_field()
    labels_text = forms.CharField(required=False, label="Labels", help_text="e.g. zone=a, gpu")

    class Meta:
        model = Node
        fields = ["name", "address", "port", "role", "ssh_user", "use_sudo", "credential_kind", *FLAG_FIELDS]
        labels = {"ssh_user": "SSH user", "credential_kind": "Credential", "use_sudo": "Use sudo"}
        widgets = {name: FlagSelect for name in FLAG_FIELDS}

    def __init__(self, *args, cluster, **kwargs):
        super().__init__(*args, **kwargs)
        self.cluster = cluster
        for name in FLAG_FIELDS:
            widget = self.fields[name].widget
            assert isinstance(widget, FlagSelect)
            widget.choices = [("unknown", f"the cluster's ({'on' if getattr(cluster, name) else 'off'})"),
                              ("true", "on"), ("false", "off")]
        self.fields["credential"].help_text = CREDENTIAL_HELP if self.instance.pk else "Stored encrypted; never shown again."

    def clean_name(self):
        name = self.cleaned_data["name"]
        clash = Node.objects.filter(cluster=self.cluster, name=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("This cluster already has a node with this name.")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        credential = data.get("credential", "")
        moved = self.instance.pk and set(self.changed_data) & set(Node.TARGET_FIELDS)
        if credential or uses_shared_credential(self.instance):
            pass  # a shared credential is sent only once the new host key is approved (trust.connect_refusal)
        elif moved:
            self.add_error("credential", MOVED_NEEDS_CREDENTIAL)
        elif not self.instance.sealed:
            self.add_error("credential", "A private key or password is required.")
        if data.get("use_sudo") and data.get("ssh_user") == "root":
            self.add_error("use_sudo", "root needs no sudo.")
        _clean_credential(self, data)
        return data

    def save(self, commit=True):
        node = super().save(commit=False)
        node.cluster = self.cluster
        node.labels = self.cleaned_data["labels_text"]
        if self.cleaned_data.get("credential"):
            node.seal_credential(self.cleaned_data["credential"])
        if commit:
            node.save()
        return node


def uses_shared_credential(node: Node) -> bool:
    return bool(node.pk) and NodeCredential.objects.filter(node_id=node.pk).exists()


def shared_credential_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=SharedCredential.objects.all(), required=False, to_field_name="name", label="Shared credential",
        empty_label="none: the one typed below",
        help_text="Made and rotated by an admin; its value is never shown.")


class BulkNodesForm(forms.Form):
    lines = forms.CharField(
        label="Nodes", widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono",
                                                    "placeholder": "server-1 10.0.0.11 server\nagent-1 10.0.0.21:2222 agent"}),
        help_text="One node per line: name address[:port] role (server or agent).",
    )
    ssh_user = forms.CharField(initial="root", label="SSH user", max_length=Node._meta.get_field("ssh_user").max_length)
    use_sudo = forms.BooleanField(required=False, label="Use sudo")
    shared_credential = shared_credential_field()
    credential_kind = forms.ChoiceField(choices=Node.Credential.choices, label="Credential")
    credential = _credential_field()

    def clean_ssh_user(self) -> str:
        return checked_user(self.cleaned_data["ssh_user"])

    def clean_lines(self) -> str:
        # Said with the other fields' errors, not a round later (nodes_bulk_create checks them again,
        # with the cluster's nodes).
        if errors := parse_bulk(self.cleaned_data["lines"])[1]:
            raise forms.ValidationError(errors)
        return self.cleaned_data["lines"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("credential") and not data.get("shared_credential"):
            self.add_error("credential", "A private key or password is required, or choose a shared credential.")
        _clean_credential(self, data)
        return data
