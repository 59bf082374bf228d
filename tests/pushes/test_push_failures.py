"""Each failure ends as failed or unreachable with a clear message, and the other nodes still succeed."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def statuses(stack, job):
    return {k: (r.status, r.message) for k, r in stack.results(job).items()}


def test_a_node_whose_link_is_down_is_unreachable(stack, nodes):
    h = nodes(2)
    stack.add(h)
    h.nodes[0].link_down()
    res = stack.results(stack.push())
    assert res["node1"].status == "unreachable" and "timed out" in res["node1"].message
    assert res["node2"].status == "changed"


def test_a_hung_sshd_is_unreachable(stack, nodes):
    h = nodes(2)
    stack.add(h)
    h.nodes[0].freeze_sshd()
    try:
        res = stack.results(stack.push())
    finally:
        h.nodes[0].thaw_sshd()
    assert res["node1"].status == "unreachable" and "handshake" in res["node1"].message, res["node1"].message
    assert res["node2"].status == "changed"


def test_a_refused_connection_is_unreachable(stack, nodes):
    h = nodes(2)
    stack.add(h)
    h.nodes[0].reject_ssh()
    res = stack.results(stack.push())
    assert res["node1"].status == "unreachable" and "cannot connect" in res["node1"].message
    assert res["node2"].status == "changed"


def test_wrong_credentials_fail_without_retrying(stack, nodes):
    h = nodes(2)
    bad, good = stack.add(h)
    bad.seal_credential(nodes(1).client_private_key_pem)  # a key the node does not know
    bad.save()
    res = stack.results(stack.push())
    assert res["node1"].status == "failed" and "refused the credentials" in res["node1"].message
    assert res["node2"].status == "changed"


def test_a_password_login_with_sudo_works(stack, nodes):
    h = nodes(1, sudo=True)
    stack.add(h, user=h.sudo_user, credential=h.sudo_password, use_sudo=True)
    r = stack.push().results.get()
    assert r.status == "changed", r.message
    st = h.nodes[0].stat("/etc/rancher/k3s/registries.yaml")
    assert (st.mode & 0o777, st.uid) == (0o600, 0)
    assert [x.unit for x in h.nodes[0].restarts()] == ["k3s-agent"]


def test_sudo_refused_fails_with_a_clear_message(stack, nodes):
    h = nodes(2, sudo=[False, True])
    stack.add(h, user=h.sudo_user, credential=h.sudo_password, use_sudo=True)
    res = stack.results(stack.push())
    assert res["node1"].status == "failed" and "sudo refused" in res["node1"].message
    assert res["node2"].status == "changed"


def test_a_read_only_target_fails_and_keeps_the_old_file(stack, nodes):
    h = nodes(2)
    stack.add(h)
    stack.push()
    before = h.nodes[0].read("/etc/rancher/k3s/registries.yaml")
    from regui.registries.importing import registries_import

    registries_import(cluster=stack.cluster, text="mirrors:\n  ghcr.io: {}\n", replace=False)
    h.nodes[0].make_readonly("/etc/rancher/k3s")
    res = stack.results(stack.push())
    assert res["node1"].status == "failed" and "previous file was left in place" in res["node1"].message
    assert h.nodes[0].read("/etc/rancher/k3s/registries.yaml") == before
    assert res["node2"].status == "changed"


def test_a_connection_cut_during_the_write_leaves_the_old_file_intact(stack, nodes):
    from regui.registries.models import RegistryConfig
    from tests.certs import key_and_cert

    h = nodes(1)
    stack.add(h)
    stack.push()
    old = h.nodes[0].read("/etc/rancher/k3s/registries.yaml")
    # A large CA bundle makes the program long enough to cut mid-transfer on a slow link.
    bundle = "".join(key_and_cert(f"ca{i}.test")[1] for i in range(8)) * 25
    RegistryConfig.objects.filter(cluster=stack.cluster).update(ca_bundle=bundle)
    h.nodes[0].throttle("64kbit")
    job = stack.push(wait=False)
    time.sleep(2.0)
    h.nodes[0].link_down()
    job = stack.wait(job, timeout=60)
    r = job.results.get()
    assert r.status in ("failed", "unreachable"), r.message
    h.nodes[0].link_up()
    assert h.nodes[0].read("/etc/rancher/k3s/registries.yaml") == old
    assert not [f for f in h.nodes[0].listdir("/etc/rancher/k3s") if f.startswith(".regui-")]
    assert h.nodes[0].restarts()[-1:] and len(h.nodes[0].restarts()) == 1
