"""In-process (fake nodes): every way a node's push fails ends as failed or unreachable with the
message an operator needs, records the node's state, and leaves the other nodes' pushes alone."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node

pytestmark = pytest.mark.django_db(transaction=True)


def push_with_one_bad_node(fleet, setup, **bad):
    """a1 is set up to fail, a2 is healthy: returns (a1's result, a2's result, a1's node row)."""
    bad_node, _ = fleet.add("agent", **bad) + fleet.add("agent")
    setup(fleet["a1"])
    res = fleet.results(fleet.push())
    assert res["a2"].status == "changed", res["a2"].message
    bad_node.refresh_from_db()
    return res["a1"], bad_node


def test_a_refused_connection_is_unreachable(fleet):
    r, node = push_with_one_bad_node(fleet, lambda n: setattr(n, "network", "refused"))
    assert r.status == "unreachable"
    assert r.message == f"cannot connect to {node.address}:22: Connection refused"
    assert node.sync_state == Node.Sync.UNREACHABLE and node.last_message == r.message


def test_a_connection_that_times_out_is_unreachable_after_the_configured_timeout(fleet, settings):
    settings.REGUI_SSH_CONNECT_TIMEOUT = 3
    r, node = push_with_one_bad_node(fleet, lambda n: setattr(n, "network", "timeout"))
    assert (r.status, r.message) == ("unreachable", f"connection to {node.address}:22 timed out after 3 s")
    assert node.sync_state == Node.Sync.UNREACHABLE


def test_the_configured_timeout_retries_and_backoff_reach_the_transport(fleet, settings):
    settings.REGUI_SSH_CONNECT_TIMEOUT, settings.REGUI_SSH_RETRIES, settings.REGUI_SSH_BACKOFF = 4, 5, 0.5
    fleet.add("agent")
    fleet.push()
    (connect,) = fleet["a1"].connects
    assert (connect.timeout, connect.retries, connect.backoff) == (4, 5, 0.5)


def test_a_hung_sshd_is_unreachable(fleet):
    r, _ = push_with_one_bad_node(fleet, lambda n: setattr(n, "network", "hung"))
    assert r.status == "unreachable" and "no SSH handshake" in r.message


def test_a_node_with_no_approved_key_fails_and_is_never_contacted(fleet):
    r, node = push_with_one_bad_node(fleet, lambda n: None, approve=False)
    assert r.status == "failed" and r.message.startswith("no approved host key: scan the node's host key")
    assert fleet["a1"].connects == [] and fleet["a1"].read("/etc/rancher/k3s/registries.yaml") is None
    assert node.sync_state == Node.Sync.NEVER, "not unreachable: nothing was tried"


def test_a_changed_host_key_fails_with_both_fingerprints_and_nothing_is_sent(fleet):
    old = {}

    def rotate(n):
        old["fingerprint"] = n.host_key.fingerprint
        n.rotate_host_key()

    r, _ = push_with_one_bad_node(fleet, rotate)
    assert r.status == "failed" and "Nothing was sent" in r.message
    assert old["fingerprint"] in r.message and fleet["a1"].host_key.fingerprint in r.message
    assert fleet["a1"].execs == []


def test_refused_credentials_fail(fleet):
    r, node = push_with_one_bad_node(fleet, lambda n: setattr(n, "credential", "another key"))
    assert (r.status, r.message) == ("failed", f"root@{node.address} refused the credentials")
    assert fleet["a1"].execs == []


def test_a_silent_node_is_unreachable_after_the_command_timeout_plus_the_restart_wait(fleet, settings):
    settings.REGUI_SSH_COMMAND_TIMEOUT, settings.REGUI_RESTART_WAIT = 7, 2
    r, node = push_with_one_bad_node(fleet, lambda n: setattr(n, "exec_fault", "no_answer"))
    assert (r.status, r.message) == ("unreachable", "the node stopped answering: no result within 9 s")
    assert node.sync_state == Node.Sync.UNREACHABLE


def test_a_connection_lost_during_the_push_is_unreachable(fleet):
    r, _ = push_with_one_bad_node(fleet, lambda n: setattr(n, "exec_fault", "lost"))
    assert (r.status, r.message) == ("unreachable", "connection lost: Socket is closed")


def test_sudo_that_wants_a_password_fails_with_a_clear_message(fleet):
    r, _ = push_with_one_bad_node(fleet, lambda n: setattr(n, "sudo", False), use_sudo=True)
    assert r.status == "failed"
    assert r.message == "sudo refused to run as root without a password: sudo: a password is required"
    assert fleet["a1"].read("/etc/rancher/k3s/registries.yaml") is None


def test_a_push_through_working_sudo_succeeds(fleet):
    fleet.add("agent", use_sudo=True)
    r = fleet.push().results.get()
    assert r.status == "changed", r.message
    assert fleet["a1"].execs[0].command == "sudo -n sh -s"


def test_a_program_that_exits_non_zero_without_a_report_fails_with_its_stderr(fleet):
    broken = ["sh", "-c", "echo 'sh: 1: Syntax error' >&2; exit 2"]
    r, _ = push_with_one_bad_node(fleet, lambda n: setattr(n, "shell", broken))
    assert (r.status, r.message) == ("failed", "the remote program exited with status 2: sh: 1: Syntax error")


def test_a_program_that_succeeds_without_a_report_fails(fleet):
    r, _ = push_with_one_bad_node(fleet, lambda n: setattr(n, "shell", ["true"]))
    assert (r.status, r.message) == ("failed", "the remote program exited with status 0: no output")


def test_a_write_that_fails_says_the_previous_file_was_left_in_place(fleet):
    # A file where the directory must be: refused for root too (chmod would not stop root).
    r, node = push_with_one_bad_node(fleet, lambda n: n.write("/etc/rancher/k3s", b"not a directory"))
    assert r.status == "failed"
    assert r.message.startswith("cannot create /etc/rancher/k3s") and r.message.endswith(
        ". The previous file was left in place."), r.message
    assert not r.restarted and fleet["a1"].restarts(include_failed=True) == []
    assert node.sync_state == Node.Sync.NEVER, "nothing was written, so nothing drifted"


def test_a_failed_restart_fails_the_node_after_the_write(fleet):
    r, node = push_with_one_bad_node(fleet, lambda n: n.set_systemctl(restart_fails=True))
    assert (r.status, r.message) == ("failed", "wrote /etc/rancher/k3s/registries.yaml; systemctl restart k3s-agent "
                                               "failed (Job for k3s-agent.service failed.)")
    assert r.restarted and r.sha256_after
    assert fleet["a1"].read("/etc/rancher/k3s/registries.yaml") is not None
    # The file is what regui wrote: in sync, but the service did not take it, and the next push restarts it.
    assert node.sync_state == Node.Sync.IN_SYNC and node.last_sync_key
    assert node.restart_pending and node.restart_failed


def test_a_service_that_stays_inactive_fails_the_node(fleet, settings):
    settings.REGUI_RESTART_WAIT = 0
    r, _ = push_with_one_bad_node(fleet, lambda n: n.set_systemctl(is_active="failed"))
    assert (r.status, r.message) == ("failed", "wrote /etc/rancher/k3s/registries.yaml; k3s-agent is failed, not "
                                               "active, 0 s after the restart")


def test_an_unexpected_error_fails_only_that_node_and_releases_its_lock(fleet):
    r, node = push_with_one_bad_node(fleet, lambda n: setattr(n, "exec_fault", "bug"))
    assert r.status == "failed"
    assert r.message == "internal error (RuntimeError: the fake node broke); see the worker log"
    assert node.lock_job is None
