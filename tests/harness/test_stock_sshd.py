"""The harness's stock-Debian sshd mode: sessions go through PAM as on a stock Debian node."""

from __future__ import annotations

import pytest

from tests.conftest import require
from tests.harness.nodes import Harness, HarnessUnavailable, check_available
from tests.harness.test_nodes_harness import connect, run

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def both():
    try:
        check_available()
    except HarnessUnavailable as exc:
        require(False, f"fake SSH nodes: {exc}")
    with Harness.up(1, sudo=False) as plain, Harness.up(1, sudo=False, stock_sshd=True) as stock:
        yield plain, stock


def test_a_stock_sshd_session_runs_pam_and_a_plain_one_does_not(both):
    plain, stock = both
    with connect(stock, stock.nodes[0]) as c:
        assert run(c, "cat /proc/self/loginuid")[1] == "0"  # pam_loginuid
    motd = stock.nodes[0].read("/run/motd.dynamic") or b""
    assert b"node1" in motd  # pam_motd ran /etc/update-motd.d/10-uname
    with connect(plain, plain.nodes[0]) as c:
        assert run(c, "cat /proc/self/loginuid")[1] != "0"
    assert plain.nodes[0].read("/run/motd.dynamic") is None
