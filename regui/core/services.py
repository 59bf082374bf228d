from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from .roles import ROLES, role_of
from .signals import user_role_changed


@transaction.atomic
def user_set_role(*, user: User, role: str, active: bool | None = None, created: bool = False) -> None:
    before = {"role": None if created else role_of(user), "is_active": None if created else user.is_active}
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    if role:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    if active is not None and user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        if not active:
            end_sessions(user)
    user.__dict__.pop("_regui_role", None)
    after = {"role": role or None, "is_active": user.is_active}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if created:
        changes = {"username": [None, user.username], **changes}
    if changes:
        user_role_changed.send(sender=User, user=user, changes=changes, created=created)


def end_sessions(user: User) -> int:
    """Delete the user's sessions. Django already treats a deactivated user's session as logged out,
    but the session would come back to life if the account were activated again."""
    mine = [s.pk for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
            if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    Session.objects.filter(pk__in=mine).delete()
    return len(mine)
