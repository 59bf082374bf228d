from __future__ import annotations

import os

import pytest

from tests.conftest import require

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
