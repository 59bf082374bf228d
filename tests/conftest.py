from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import settings

REQUIRE_E2E = os.environ.get("REGUI_REQUIRE_E2E") == "1"

# CI runs the property tests on a fixed sequence of examples, so a merge is never decided by which
# inputs a random seed happened to draw; local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, database=None)
if REQUIRE_E2E:
    settings.load_profile("ci")


def require(condition: bool, what: str) -> None:
    """Skip when a real part is missing on a developer's machine; fail in CI (REGUI_REQUIRE_E2E=1)."""
    if condition:
        return
    if REQUIRE_E2E:
        pytest.fail(f"prerequisite missing: {what}", pytrace=False)
    pytest.skip(f"prerequisite missing: {what}")


def require_binary(path: str) -> str:
    found = path if os.path.isabs(path) and os.access(path, os.X_OK) else shutil.which(path)
    require(bool(found), f"{path} (installed by `make test`)")
    return found


@pytest.fixture
def make_user(db):
    from django.contrib.auth.models import User

    from regui.core.services import user_set_role

    def make(username: str, role: str | None) -> User:
        user = User.objects.create_user(username=username, password=f"pw-{username}-Longer1")
        if role:
            user_set_role(user=user, role=role)
        return user

    return make


def _client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(make_user):
    return _client_for(make_user("alice", "admin"))


@pytest.fixture
def operator_client(make_user):
    return _client_for(make_user("olivia", "operator"))


@pytest.fixture
def viewer_client(make_user):
    return _client_for(make_user("victor", "viewer"))


@pytest.fixture
def cluster(db):
    from regui.registries.models import Cluster

    return Cluster.objects.create(name="prod", distro="k3s")


CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are not
# concurrent with it, so Django's async guard only gets in the way here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require(os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} (Debian chromium, installed by `make test`)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS, "headless": True}


@pytest.fixture
def logged_in(page, live_server, make_user):
    def login(username: str = "olivia", role: str = "operator"):
        make_user(username, role)
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", f"pw-{username}-Longer1")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return login
