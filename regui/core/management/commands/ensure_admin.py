from __future__ import annotations

import os
import secrets

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from regui.core.config import env_secret
from regui.core.services import user_set_role


class Command(BaseCommand):
    help = "Make sure an admin account exists (password from REGUI_ADMIN_PASSWORD, or generated and printed once)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("REGUI_ADMIN_USER", "admin"))

    def handle(self, *args, username: str, **options):
        if not username.strip():
            raise CommandError("the admin's username (--username or REGUI_ADMIN_USER) is empty")
        try:  # what the Users page would take, so the account is one regui's forms can name
            User._meta.get_field("username").run_validators(username)
        except ValidationError as exc:
            raise CommandError(f"{username!r} cannot be a username: " + " ".join(exc.messages)) from None
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Admin account {username!r} exists.")
            return
        password = env_secret("REGUI_ADMIN_PASSWORD")
        generated = not password
        password = password or secrets.token_urlsafe(15)  # 20 characters: passes every validator
        try:
            validate_password(password, User(username=username))
        except ValidationError as exc:
            raise CommandError("REGUI_ADMIN_PASSWORD is too weak: " + " ".join(exc.messages)) from None
        user = User.objects.create_user(username=username, password=password)
        user_set_role(user=user, role="admin", created=True)
        if generated:
            self.stdout.write(
                f"Created admin account {username!r} with password: {password}\n"
                "It is shown only this once: change it after logging in or set REGUI_ADMIN_PASSWORD."
            )
        else:
            self.stdout.write(f"Created admin account {username!r} (password from REGUI_ADMIN_PASSWORD).")
