"""The drift watch's settings page: operators turn it on and set its interval; where notifications go
(a webhook URL, email addresses) is an admin's choice, as that sends the fleet's state to a new host."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.core.validators import URLValidator, validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from regui.audit.labels import state_words
from regui.audit.services import audit_object
from regui.core.forms import WriteOnlyURLInput
from regui.core.roles import ADMIN, OPERATOR, has_role, require_role
from regui.registries.models import Cluster

from .drift_watch import DriftWatch
from .drift_webhook import SCHEMES
from .models import DRIFT_WATCH_ACTOR, PushJob

ROUTING = ("webhook_url", "remove_webhook", "email_recipients")
SHOWN = 20  # node names listed per state on the status part
HISTORY = "drift watch webhook URL"


class DriftWatchForm(forms.ModelForm):
    # Write-only: the stored URL is sealed and never put back in the field (see __init__ for what is said).
    webhook_url = forms.URLField(label="Webhook URL", required=False, max_length=500, assume_scheme="https",
                                 validators=[URLValidator(schemes=list(SCHEMES))],
                                 widget=WriteOnlyURLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
                                 help_text="Receives a JSON POST when a node's state changes (http or https). "
                                           "Stored encrypted; never shown again.")
    remove_webhook = forms.BooleanField(label="Remove the webhook", required=False)

    class Meta:
        model = DriftWatch
        fields = ["interval_minutes", "email_recipients"]
        widgets = {"email_recipients": forms.Textarea(attrs={"rows": 2})}

    field_order = ["interval_minutes", "webhook_url", "remove_webhook", "email_recipients"]

    def __init__(self, *args: Any, may_route: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.sealed:
            self.fields["webhook_url"].help_text = (
                f"set: {self.instance.webhook_shown} — leave empty to keep it, or type a new one (http or https).")
        else:
            del self.fields["remove_webhook"]
        if not may_route:  # what an operator posts for these is never read
            for name in ROUTING:
                self.fields.pop(name, None)

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"]
        try:
            port = urlsplit(url).port
        except ValueError:  # Django's check takes any five digits
            port = -1
        if port is not None and not 0 < port < 65536:
            raise forms.ValidationError("Enter a valid URL: its port is 1 to 65535.")
        return url

    def clean_interval_minutes(self) -> int:
        value = self.cleaned_data["interval_minutes"]
        if value > 7 * 24 * 60:
            raise forms.ValidationError("At most a week (10080 minutes).")
        return value

    def clean_email_recipients(self) -> str:
        text = self.cleaned_data["email_recipients"]
        addresses = [a.strip() for a in text.replace("\n", ",").split(",") if a.strip()]
        for a in addresses:
            validate_email(a)
        return ", ".join(addresses)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("webhook_url") and data.get("remove_webhook"):
            self.add_error("remove_webhook", "Type a new URL or remove it, not both.")
        return data

    def save(self, commit: bool = True) -> DriftWatch:
        watch = super().save(commit=False)
        if self.cleaned_data.get("remove_webhook"):
            watch.seal_webhook("")
        elif self.cleaned_data.get("webhook_url"):
            watch.seal_webhook(self.cleaned_data["webhook_url"])
        if commit:
            watch.save()
        return watch


@require_role(OPERATOR)
def drift_watch_edit(request: HttpRequest, name: str) -> HttpResponse:
    cluster = get_object_or_404(Cluster, name=name)
    watch = DriftWatch.objects.filter(cluster=cluster).first() or DriftWatch(cluster=cluster)
    before = {"interval_minutes": watch.interval_minutes, "email_recipients": watch.email_recipients}
    old_hook, old_shown = watch.sealed, watch.webhook_shown
    may_route = has_role(request.user, ADMIN)
    form = DriftWatchForm(request.POST or None, instance=watch, may_route=may_route)
    if request.method == "POST" and form.is_valid():
        watch = form.save()
        changes: dict[str, Any] = {f"drift watch {k.replace('_', ' ')}": [v, getattr(watch, k)]
                                   for k, v in before.items() if v != getattr(watch, k)}
        if old_hook != watch.sealed:  # a webhook URL often carries a token: history names only its host
            changes[HISTORY] = _hook_change(old_shown if old_hook else None, watch.webhook_shown or None)
        if changes:
            audit_object(cluster, "update", changes)
        messages.success(request, f"Drift watch of {cluster.name} saved.")
        return redirect("cluster-list")
    return render(request, "pushes/drift_watch.html", {
        "form": form, "cluster": cluster, "may_route": may_route, "status": _status(watch),
        "webhook": watch.webhook_shown if watch.sealed else "", "recipients": len(watch.recipients)},
        status=400 if form.errors else 200)


def _hook_change(old: str | None, new: str | None) -> list[str | None]:
    """[before, after] as history keeps it: the hosts, and "(changed)" when a new URL has the same host
    (a new token, say), since the URLs themselves are never written down."""
    if old and new and old == new:
        return [old, f"{new} (changed)"]
    return [old, new]


def _status(watch: DriftWatch) -> dict[str, Any]:
    """What the watch knows as of its last collected check: the nodes not in sync, by state."""
    off: dict[str, list[str]] = {}
    for name, state in sorted(watch.node_states.items()):
        if state != "in_sync":
            off.setdefault(state, []).append(name)
    # The last notice: what the newest collected check with something to say found and could not send
    # (its job's message). The check named as the last one has often just started, with nothing to say
    # yet, and later checks that find nothing new say nothing either.
    collected = (PushJob.objects.filter(cluster=watch.cluster, kind=PushJob.Kind.DRIFT, created_by__isnull=True,
                                        created_by_name=DRIFT_WATCH_ACTOR, pk__lte=watch.collected_job_id)
                 .exclude(message="").order_by("-pk").first() if watch.pk and watch.collected_job_id else None)
    return {"job": watch.last_job if watch.pk else None, "started": watch.last_started_at, "collected": collected,
            "off": [(state, state_words(state), names[:SHOWN], len(names), len(names) - SHOWN)
                    for state, names in sorted(off.items())],
            "known": len(watch.node_states)}
