"""In-process (fake nodes): a server that fails stops the later servers of a restarting push (etcd
quorum); nothing else stops anything: agents, write-only pushes and drift checks carry on."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

QUORUM = "servers restart one at a time to protect etcd quorum"


def test_a_failed_server_restart_skips_the_later_servers_but_not_the_agents(fleet):
    fleet.add("server", "server", "server", "agent")
    fleet["s1"].set_systemctl(restart_fails=True)
    res = fleet.results(fleet.push())
    assert (res["s1"].status, res["s1"].message) == ("failed", "wrote /etc/rancher/k3s/registries.yaml; "
                                                     "systemctl restart k3s failed (Job for k3s.service failed.)")
    for later in ("s2", "s3"):
        assert res[later].status == "skipped"
        assert res[later].message == f"skipped: server s1 failed, and {QUORUM}"
        assert fleet[later].execs == [], "skipped servers are given no command"
    assert res["a1"].status == "changed" and res["a1"].restarted


def test_a_server_that_fails_before_its_restart_stops_the_roll_too(fleet):
    fleet.add("server", "server")
    fleet["s1"].credential = "another key"
    res = fleet.results(fleet.push())
    assert res["s1"].status == "failed" and "refused the credentials" in res["s1"].message
    assert res["s2"].status == "skipped" and QUORUM in res["s2"].message


def test_a_failure_in_the_middle_keeps_the_servers_before_it(fleet):
    fleet.add("server", "server", "server")
    fleet["s2"].set_systemctl(restart_fails=True)
    res = fleet.results(fleet.push())
    assert [res[s].status for s in ("s1", "s2", "s3")] == ["changed", "failed", "skipped"]
    assert "server s2 failed" in res["s3"].message


def test_a_write_only_push_goes_on_past_a_failed_server(fleet):
    fleet.add("server", "server")
    fleet["s1"].credential = "another key"
    res = fleet.results(fleet.push(restart=False))
    assert res["s1"].status == "failed"
    assert res["s2"].status == "changed" and not res["s2"].restarted


def test_a_drift_check_goes_on_past_a_failed_server(fleet):
    fleet.add("server", "server")
    fleet["s1"].credential = "another key"
    res = fleet.results(fleet.push(kind="drift"))
    assert res["s1"].status == "failed"
    assert res["s2"].status == "drifted"


def test_a_failed_agent_stops_nothing(fleet):
    fleet.add("server", "server", "agent", "agent")
    fleet["a1"].set_systemctl(restart_fails=True)
    res = fleet.results(fleet.push())
    assert [res[n].status for n in ("s1", "s2", "a1", "a2")] == ["changed", "changed", "failed", "changed"]
