from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import settings

from tests import selection

REQUIRE_E2E = os.environ.get("REGUI_REQUIRE_E2E") == "1"

# CI runs the property tests on a fixed sequence of examples, so a merge is never decided by which
# inputs a random seed happened to draw; local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, database=None)
if REQUIRE_E2E:
    settings.load_profile("ci")


# The tiers: `slow` tests start real processes (sshd nodes, Celery workers, Chromium, containerd, a
# registry, manage.py or bin/run subprocesses); `make test-fast` runs everything else. Every e2e and
# browser test starts such a part, so it is slow without having to say so twice.
IMPLIES_SLOW = ("e2e", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.get_closest_marker(name) for name in IMPLIES_SLOW):
            item.add_marker(pytest.mark.slow)
    selection.mark(items)
    _deselect_postgresql_only(config, items)


def _deselect_postgresql_only(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A `postgresql` test is left out (deselected, as -m does: not a skip) of a run on another database;
    bin/test's PostgreSQL run has it."""
    from django.conf import settings as django_settings

    if "postgresql" in django_settings.DATABASES["default"]["ENGINE"]:
        return
    left_out = [item for item in items if item.get_closest_marker("postgresql")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


# bin/test's fast-tier run on PostgreSQL + Redis keeps only the tests that use the database or the
# broker: the others behave there as on the embedded run, which has them all (tests/selection.py).
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(selection.OPTION, action="store_true",
                     help="only the tests that use the database or the broker (bin/test's PostgreSQL + Redis run)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "broker: reaches the broker though nothing in its module or fixtures "
                                       "names it; bin/test's PostgreSQL + Redis run keeps it")
    config.addinivalue_line("markers", "postgresql: needs PostgreSQL itself (a collation, say); deselected on "
                                       "another database, run by bin/test's PostgreSQL + Redis run")
    selection.guard_the_broker()
    if config.getoption(selection.OPTION):
        config.pluginmanager.register(selection.DbOrBrokerOnly(), "regui-db-or-broker-only")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    with selection.broker_refused_unless_kept(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with selection.broker_refused_unless_kept(item):
        return (yield)


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing(django_test_environment):
    """Users are made in hundreds of tests; Django's default PBKDF2 costs 0.2 s each. Logging in
    works the same with a cheap hasher; what the hash is made with is not what these tests are about."""
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


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

    yield login
    _let_the_server_finish(page)


def _let_the_server_finish(page) -> None:
    """The page stops (no poll, no debounced request starts again), then the live server's requests end
    before the test's database is flushed: on PostgreSQL a request still running (a preview, a poll)
    held a lock the flush's TRUNCATE waited on while the request waited on it (a deadlock, and the next
    test found the last one's rows)."""
    import time

    from django.db import connection

    # Leaving the page sends what its unload handlers send (the Registries page's unsaved edits, by
    # beacon), which reached the server after the wait below had found it idle and ran beside the flush
    # (a deadlock in CI): from now on the page's requests are dropped in the browser.
    page.route("**/*", lambda route: route.abort())
    page.goto("about:blank")
    if connection.vendor != "postgresql":
        return
    deadline = time.monotonic() + 10
    quiet_since = None
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')")
            if cursor.fetchone()[0] != 0:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= 0.2:  # idle a while, not between two queries of a request
                return
            time.sleep(0.05)


@pytest.fixture
def fake_ssh(tmp_path):
    """Fake nodes behind the SSH transport (tests/fakes/ssh.py) for this test: `fake_ssh.node("a1")`."""
    from regui.remote import transport
    from tests.fakes.ssh import FakeSSH

    with transport.replaced(FakeSSH(tmp_path / "nodes")) as fake:
        yield fake
