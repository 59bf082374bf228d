"""Node checks on fake nodes (tests/fakes/): the push stack of tests/pushes, with the read-back after
a push on and the checks' tasks run in this process."""

from __future__ import annotations

import pytest

from tests.pushes.conftest import fleet  # noqa: F401  (the fast push stack)


@pytest.fixture
def checks(fleet, settings):  # noqa: F811
    import regui.nodechecks.tasks  # noqa: F401  (registers the tasks, so eager mode runs them here)

    settings.REGUI_READBACK_AFTER_PUSH = True
    settings.REGUI_PULL_TEST_TIMEOUT = 20
    return fleet
