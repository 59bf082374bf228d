"""A push that wrote the file but whose restart failed (systemctl restart failed, or the unit did not
become active) leaves the node in sync with a restart pending that says the last restart failed: K3s has
not read the new file. A drift check keeps it (the file matches the render, so it used to read "in sync"
and the failure was forgotten), the node list and the confirmation say it, and the next push restarts it."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from regui.pushes.selectors import node_rows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def failed(fleet):
    """a1's restart fails once its new file is written; a2 is healthy."""
    fleet.add("agent", "agent")
    fleet["a1"].set_systemctl(restart_fails=True)
    results = fleet.results(fleet.push())
    assert (results["a1"].status, results["a2"].status) == ("failed", "changed")
    return fleet


def node(name: str) -> Node:
    return Node.objects.get(name=name)


def row(cluster, name: str):
    return next(r for r in node_rows(cluster) if r.node.name == name)


def test_a_failed_restart_leaves_the_node_in_sync_with_a_restart_pending_that_says_it_failed(failed):
    a1 = node("a1")
    assert (a1.sync_state, a1.restart_pending, a1.restart_failed) == ("in_sync", True, True)
    assert (row(failed.cluster, "a1").badge, row(failed.cluster, "a1").restart) == (
        "in_sync", "restart pending (the last restart failed)")
    a2 = node("a2")
    assert (a2.restart_pending, a2.restart_failed, row(failed.cluster, "a2").restart) == (False, False, "")


def test_a_unit_that_does_not_become_active_is_a_failed_restart_too(fleet, settings):
    settings.REGUI_RESTART_WAIT = 0
    fleet.add("agent")
    fleet["a1"].set_systemctl(is_active="failed")
    assert fleet.results(fleet.push())["a1"].status == "failed"
    a1 = node("a1")
    assert (a1.sync_state, a1.restart_pending, a1.restart_failed) == ("in_sync", True, True)


def test_a_drift_check_keeps_the_failed_restart_and_says_it(failed):
    result = failed.results(failed.push(kind="drift"))["a1"]
    assert result.status == "in_sync"
    assert result.message == ("matches the current render; restart pending: the last restart of k3s-agent failed, "
                              "the next push restarts it")
    a1 = node("a1")
    assert (a1.sync_state, a1.restart_pending, a1.restart_failed) == ("in_sync", True, True)


def test_the_node_list_and_the_node_page_say_it_after_a_drift_check(failed, client):
    failed.push(kind="drift")
    client.force_login(failed.user)
    page = client.get("/clusters/prod/nodes/").content.decode()
    assert page.count("restart pending (the last restart failed)") == 1
    a1 = node("a1")
    detail = client.get(f"/clusters/prod/nodes/{a1.pk}/").content.decode()
    assert 'data-badge="in_sync">in sync</span> <span class="small restart-pending err">' \
           'restart pending (the last restart failed)</span>' in detail


def test_the_confirmation_says_the_next_push_restarts_it(failed, client):
    failed.push(kind="drift")
    client.force_login(failed.user)
    page = client.get(f"/clusters/prod/push/confirm/?node={node('a1').pk}").content.decode()
    assert "restarts k3s-agent: its last restart failed" in page


def test_push_to_failed_nodes_still_takes_it_after_a_drift_check(failed, client):
    # The check's "in sync" is its last result: "No node failed in its last push" while it said the restart failed.
    failed.push(kind="drift")
    client.force_login(failed.user)
    page = client.get("/clusters/prod/push/confirm/?scope=failed").content.decode()
    assert "restarts k3s-agent: its last restart failed" in page and ">a2<" not in page


def test_the_next_push_restarts_it_and_clears_it(failed):
    failed.push(kind="drift")
    failed["a1"].set_systemctl()
    restarts = len(failed["a1"].restarts())
    result = failed.results(failed.push())["a1"]
    assert (result.status, result.restarted) == ("unchanged", True)
    assert result.message == "already up to date; restarted k3s-agent, whose last restart failed"
    assert len(failed["a1"].restarts()) == restarts + 1
    a1 = node("a1")
    assert (a1.sync_state, a1.restart_pending, a1.restart_failed) == ("in_sync", False, False)
    assert row(failed.cluster, "a1").restart == ""


def test_a_write_only_push_owes_a_restart_that_did_not_fail(fleet):
    fleet.add("agent")
    fleet.push(restart=False)
    a1 = node("a1")
    assert (a1.restart_pending, a1.restart_failed) == (True, False)
    assert row(fleet.cluster, "a1").restart == "restart pending"


def test_a_failed_restart_then_a_write_only_push_still_says_the_last_restart_failed(failed):
    from regui.registries.importing import registries_import
    from tests.fakes.fleet import YAML

    registries_import(cluster=failed.cluster, text=YAML.replace(":5000\"]", ":5001\"]"), replace=True)
    assert failed.results(failed.push(restart=False))["a1"].status == "changed"
    a1 = node("a1")
    assert (a1.sync_state, a1.restart_pending, a1.restart_failed) == ("in_sync", True, True)


def test_the_cluster_list_counts_nodes_whose_restart_failed(failed, client):
    client.force_login(failed.user)
    page = client.get("/").content.decode()
    assert 'data-restart-failed="1"' in page and '<span class="badge" data-badge="restart_failed">1 restart failed' in page


@pytest.mark.e2e
def test_on_a_real_node_a_failed_restart_survives_a_drift_check_and_the_next_push_restarts_it(stack, nodes):
    """Through the worker and a real sshd node with the harness's systemctl."""
    h = nodes(1)
    (n,) = stack.add(h)
    h.nodes[0].set_systemctl(restart_fails=True)
    (result,) = stack.push().results.all()
    assert result.status == "failed" and "systemctl restart k3s-agent failed" in result.message
    check = stack.push(kind="drift").results.get()
    assert check.status == "in_sync" and "the last restart of k3s-agent failed" in check.message
    n.refresh_from_db()
    assert (n.sync_state, n.restart_pending, n.restart_failed) == ("in_sync", True, True)
    assert row(stack.cluster, n.name).restart == "restart pending (the last restart failed)"

    h.nodes[0].set_systemctl(restart_fails=False)
    restarts = len(h.nodes[0].restarts())
    (again,) = stack.push().results.all()
    assert (again.status, again.restarted) == ("unchanged", True)
    assert len(h.nodes[0].restarts()) == restarts + 1
    n.refresh_from_db()
    assert (n.restart_pending, n.restart_failed) == (False, False)
