from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import transaction

from .roles import ROLES


@transaction.atomic
def user_set_role(*, user: User, role: str, active: bool | None = None) -> None:
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    if role:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    if active is not None and user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
    user.__dict__.pop("_regui_role", None)
