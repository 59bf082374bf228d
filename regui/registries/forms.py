from __future__ import annotations

from typing import Any

from django import forms

from .draft import USERNAME_MAX
from .models import Cluster, Secret
from .services import SecretInput

MAX_UPLOAD = 1024 * 1024


class ClusterForm(forms.ModelForm):
    class Meta:
        model = Cluster
        fields = ["name", "distro", "description", "disable_default_registry_endpoint", "embedded_registry",
                  "ipv6_primary"]
        help_texts = {
            "name": "Letters, digits, '-' and '_'. Used in URLs and on the command line.",
            "distro": "Decides the file path (/etc/rancher/k3s or /etc/rancher/rke2) and service names.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


class ClusterDeleteForm(forms.Form):
    """Deleting takes a cluster's registries, nodes and pushes: the name typed again says it is this one."""

    confirm_name = forms.CharField(label="Type the cluster's name to confirm", max_length=63, strip=True,
                                   widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))

    def __init__(self, *args: Any, cluster: Cluster, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.cluster = cluster

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"]
        if typed != self.cluster.name:
            raise forms.ValidationError(f"That is not this cluster's name: type {self.cluster.name} exactly.")
        return typed


class SealedTextarea(forms.Textarea):
    """A textarea for a secret value: empty on every render, as PasswordInput(render_value=False) is. A form
    refused for another field (a key that does not match its certificate, a name taken) sent the typed
    private key back in the page."""

    def format_value(self, value: Any) -> None:
        return None


class SecretForm(forms.Form):
    """One form for every kind; the template shows the fields of the chosen kind. Operators make a
    secret for one cluster; an admin also shares it with others (see sharing.py)."""

    name = forms.SlugField(max_length=253, label="Name")
    cluster = forms.ModelChoiceField(
        queryset=Cluster.objects.all(), to_field_name="name", required=False, label="Cluster",
        help_text="Only this cluster's registries can use it, and its nodes receive its values.",
    )
    shared_with = forms.ModelMultipleChoiceField(
        queryset=Cluster.objects.all(), to_field_name="name", required=False, label="Shared with",
        help_text="Other clusters that may use it: their nodes receive its values too.",
    )
    description = forms.CharField(max_length=200, required=False, label="Description")
    username = forms.CharField(max_length=USERNAME_MAX, required=False, label="Username")
    password = forms.CharField(
        required=False, label="Password", strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    auth = forms.CharField(
        required=False, label="Auth", strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="base64 of username:password, as in an RKE Auth Config secret.",
    )
    identity_token = forms.CharField(
        required=False, label="Identity Token",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    private_key = forms.CharField(
        required=False, label="Private Key", strip=False,
        widget=SealedTextarea(attrs={
            "rows": 6, "spellcheck": "false",
            "placeholder": "Paste in the private key, typically starting with -----BEGIN RSA PRIVATE KEY-----",
        }),
    )
    certificate = forms.CharField(
        required=False, label="Certificate",
        widget=forms.Textarea(attrs={
            "rows": 6, "spellcheck": "false",
            "placeholder": "Paste in the CA certificate, starting with -----BEGIN CERTIFICATE----",
        }),
    )

    def __init__(self, *args, kind: str, instance: Secret | None = None, admin: bool = False, **kwargs):
        self.kind = kind
        self.instance = instance
        self.admin = admin
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name, "description": instance.description,
                "username": instance.username, "certificate": instance.certificate,
                "cluster": instance.cluster, "shared_with": list(instance.shared_with.all()),
            }
        super().__init__(*args, **kwargs)
        cluster = self.fields["cluster"]
        if instance is not None and not admin:
            cluster.disabled = True  # an operator's secret stays with its cluster
        elif not admin or (instance is not None and instance.cluster_id):
            cluster.required = True
        else:
            cluster.help_text = "Leave blank for an admin's secret that only the clusters it is shared with use."
        if not admin:
            del self.fields["shared_with"]
        if instance is not None:
            for field in Secret.SEALED_FIELDS[Secret.Kind(kind)]:
                if instance.has_value(field):
                    self.fields[field].widget.attrs["placeholder"] = "(unchanged — leave blank to keep)"

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        clash = Secret.objects.filter(name=name)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("A secret with this name already exists.")
        return name

    def to_input(self) -> SecretInput:
        d = self.cleaned_data
        return SecretInput(
            name=d["name"], kind=self.kind, description=d["description"], username=d["username"],
            password=d["password"], auth=d["auth"], identity_token=d["identity_token"],
            certificate=d["certificate"], private_key=d["private_key"], cluster=d.get("cluster"),
            shared_with=list(d["shared_with"]) if "shared_with" in self.fields else None,
        )

    def visible_field_names(self) -> list[str]:
        common = ["name", "cluster", *(["shared_with"] if "shared_with" in self.fields else []), "description"]
        return common + {
            Secret.Kind.BASIC: ["username", "password"],
            Secret.Kind.RKE_AUTH: ["username", "password", "auth", "identity_token"],
            Secret.Kind.TLS: ["private_key", "certificate"],
        }[Secret.Kind(self.kind)]


class ImportForm(forms.Form):
    text = forms.CharField(
        required=False, label="registries.yaml",
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "mono"}),
    )
    file = forms.FileField(required=False, label="…or upload a file")
    replace = forms.BooleanField(
        required=False, label="Replace everything",
        help_text="Remove mirrors and registry authentication that the file does not list.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                raise forms.ValidationError("The file is larger than 1 MiB.")
            try:
                data["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        if not (data.get("text") or "").strip():
            raise forms.ValidationError("Paste a registries.yaml or choose a file.")
        return data
