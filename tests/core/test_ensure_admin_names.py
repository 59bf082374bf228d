"""`manage.py ensure_admin` (run by `make run` and the image) takes only a name the Users page would take:
an empty REGUI_ADMIN_USER or --username was a traceback (ValueError), and a name with a blank or a '!'
made an account no form of regui could make. Both are refused with one line and a non-zero status."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.procs import ROOT, app_env, migrated

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name, said", [
    ("", "the admin's username (--username or REGUI_ADMIN_USER) is empty"),
    ("bad name!", "'bad name!' cannot be a username: Enter a valid username."),
])
def test_a_name_the_users_page_would_refuse_is_refused_and_no_account_made(name, said):
    with pytest.raises(CommandError) as refused:
        call_command("ensure_admin", username=name)
    assert str(refused.value).startswith(said)
    assert not User.objects.exists()


def test_a_good_name_still_makes_the_admin(capsys):
    call_command("ensure_admin", username="ops.admin@example")
    assert User.objects.get().username == "ops.admin@example"


@pytest.mark.slow  # manage.py as make run starts it
def test_an_empty_admin_user_variable_is_one_line_from_manage_py(tmp_path):
    env = app_env(tmp_path, REGUI_ADMIN_USER="")
    migrated(env)
    r = subprocess.run([sys.executable, "manage.py", "ensure_admin"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "CommandError: the admin's username (--username or REGUI_ADMIN_USER) is empty" in r.stderr
