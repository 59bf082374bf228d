from __future__ import annotations

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from regui.core.signals import user_role_changed

from . import logins
from .context import acting, client_ip
from .models import ObjectType
from .services import audit_object, audit_record


def _record(request, user, action: str, username: str = "", message: str = "") -> None:
    ip = client_ip(request) if request is not None else None
    request_id = getattr(request, "audit_request_id", "")
    with acting(user, request_id=request_id, source_ip=ip, username=username):
        audit_record(action=action, object_type=ObjectType.USER, object_id=getattr(user, "pk", "") or "",
                     object_repr=username or getattr(user, "username", ""), message=message)


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    if request is not None:
        logins.login_succeeded(request, user.get_username())
    _record(request, user, "login")


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        _record(request, user, "logout")


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # Only the name that was typed: never the password Django hands the signal (already masked).
    # History shows it to admins only (it may be a password typed into the wrong box).
    username = str(credentials.get("username", ""))[:150]
    note = ""
    if request is not None and logins.login_failed(request, username):
        note = (f"Too many failed logins: logins with this username or from this address are refused for "
                f"{logins.lock_minutes():g} minutes.")
    _record(request, None, "login_failed", username=username, message=note)


@receiver(user_role_changed)
def on_role_changed(sender, user, changes, created, **kwargs):
    audit_object(user, "create" if created else "update", changes)


@receiver(pre_delete, sender=User)
def on_user_deleted(sender, instance, **kwargs):
    # The app deactivates accounts instead of deleting them; a deletion comes from a shell or a
    # script, and still belongs in the history (the entries keep the name as text).
    groups = sorted(instance.groups.values_list("name", flat=True))
    audit_object(instance, "delete", {"username": [instance.username, None], "roles": [groups or None, None]})
