"""Jump hosts on real sshd nodes, pushed by the real Celery worker: a bastion node the host reaches, and a
node that refuses SSH from anywhere but the bastion (nft in its namespace). A push through the bastion
writes the node's file; a direct connection fails; the node's key is scanned and approved through the
bastion; a changed bastion key, a bastion with AllowTcpForwarding no and a node down behind the bastion
each fail naming the hop."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.utils import timezone

from regui.remote import ssh

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PATH = "/etc/rancher/k3s/registries.yaml"


def behind_bastion(stack, nodes, make_user, count: int = 1) -> SimpleNamespace:
    """The cluster's nodes are reached through the harness's node1 (bastion-1); node2... only through it."""
    from regui.inventory.credentials.services import credential_create
    from regui.inventory.jumphosts.models import JumpHost
    from regui.inventory.jumphosts.services import cluster_use_jump_host
    from regui.inventory.models import Node

    h = nodes(1 + count, etc_dirs=("rancher/k3s",))
    bastion, *targets = h.nodes
    admin = make_user("alice", "admin")
    credential = credential_create(user=admin, name="bastion-key", kind="key", value=h.client_private_key_pem)
    jump = JumpHost.objects.create(
        name="bastion-1", address=bastion.address, port=22, ssh_user=h.user, credential=credential,
        host_key_type=bastion.host_key_type, host_key=bastion.host_key_public,
        host_key_fingerprint=bastion.host_key_fingerprint, host_key_approved_at=timezone.now())
    cluster_use_jump_host(cluster=stack.cluster, jump=jump, user=admin)
    added = []
    for target in targets:
        target.ssh_only_from(bastion.address)
        node = Node(cluster=stack.cluster, name=f"{target.name}-{h.id}", address=target.address, port=22,
                    role="agent", ssh_user=h.user, credential_kind="key", host_key_type=target.host_key_type,
                    host_key=target.host_key_public, host_key_fingerprint=target.host_key_fingerprint,
                    host_key_approved_at=timezone.now())
        node.seal_credential(h.client_private_key_pem)
        node.save()
        added.append(node)
    return SimpleNamespace(h=h, bastion=bastion, target=targets[0], targets=targets, jump=jump, node=added[0],
                           nodes=added, admin=admin)


@pytest.fixture
def behind(stack, nodes, make_user):
    return behind_bastion(stack, nodes, make_user)


def only_result(job):
    [result] = job.results.all()
    return result


def test_a_push_goes_through_the_bastion_to_a_node_the_host_cannot_reach(stack, behind):
    with pytest.raises(ssh.Unreachable, match="Connection refused"):
        ssh.scan_host_key(behind.target.address, 22, timeout=3)  # straight from the host: refused
    result = only_result(stack.push())
    assert result.status == "changed", result.message
    assert b"mirror.example.com" in (behind.target.read(PATH) or b"")
    assert behind.bastion.read(PATH) is None  # the bastion only forwarded


def test_the_node_key_is_scanned_and_approved_through_the_bastion(stack, behind):
    from regui.inventory.models import Node
    from regui.inventory.services import node_approve_host_key, node_scan_host_key

    Node.objects.filter(pk=behind.node.pk).update(host_key="", host_key_type="", host_key_fingerprint="",
                                                  host_key_approved_at=None)
    node = Node.objects.get(pk=behind.node.pk)
    key = node_scan_host_key(node=node)
    assert (key.type, key.key) == (behind.target.host_key_type, behind.target.host_key_public)
    node_approve_host_key(node=node, fingerprint=key.fingerprint, user=behind.admin)
    assert only_result(stack.push()).status == "changed"


def test_a_changed_bastion_key_is_refused_naming_the_bastion_until_approved_again(stack, behind):
    from regui.inventory.jumphosts.services import jump_host_approve, jump_host_scan

    old = behind.bastion.host_key_fingerprint
    behind.bastion.regenerate_host_key()
    result = only_result(stack.push())
    assert result.status == "failed"
    assert result.message.startswith(f"jump host bastion-1 ({behind.bastion.address}:22): host key changed: approved "
                                     f"ssh-ed25519 {old}, the jump host now presents ssh-ed25519 "
                                     f"{behind.bastion.host_key_fingerprint}. Nothing was sent."), result.message
    assert behind.target.read(PATH) is None
    key = jump_host_scan(jump=behind.jump)
    jump_host_approve(jump=behind.jump, fingerprint=key.fingerprint, user=behind.admin)
    assert only_result(stack.push()).status == "changed"


def test_a_bastion_with_tcp_forwarding_off_is_named(stack, behind):
    behind.bastion.sshd_option("AllowTcpForwarding no")
    result = only_result(stack.push())
    node = behind.node
    assert result.status == "failed"
    assert result.message.startswith(
        f"jump host bastion-1 ({behind.bastion.address}:22): refused to open a connection to node {node.name} "
        f"({node.address}:22): Administratively prohibited (is AllowTcpForwarding off on the jump host?)"), result.message
    assert behind.target.read(PATH) is None


def test_a_node_down_behind_the_bastion_is_unreachable_via_the_bastion(stack, behind):
    behind.target.stop_sshd()
    result = only_result(stack.push())
    node = behind.node
    assert result.status == "unreachable"
    assert result.message.startswith(
        f"node {node.name} ({node.address}:22) via jump host bastion-1: cannot connect to {node.address}:22: "
        "the jump host says Connect failed: Connection refused"), result.message


def test_many_nodes_behind_one_bastion_are_pushed_at_once_without_disturbing_each_other(stack, nodes, make_user):
    many = behind_bastion(stack, nodes, make_user, count=6)
    for _ in range(2):  # the second push finds them unchanged: connections open and close at once again
        job = stack.push()
        assert {r.status for r in job.results.all()} <= {"changed", "unchanged"}, [r.message for r in job.results.all()]
    assert all(b"mirror.example.com" in (t.read(PATH) or b"") for t in many.targets)


def test_24_agents_pushed_at_once_through_a_bastion_with_a_stock_max_startups_are_never_dropped(
        stack, nodes, make_user, settings):
    """Each node logs in to the bastion; a stock sshd drops unauthenticated connections at random beyond
    10 (MaxStartups 10:30:100). regui keeps at most REGUI_JUMP_HANDSHAKES (8) logins in progress there
    from the worker's machine: here two chunks of 12, run at once by the worker's two processes, which
    count them together (16 at once, 8 each, would be dropped past 10)."""
    from regui.pushes.models import PushPolicy

    settings.REGUI_PUSH_CHUNK = 12  # the job's plan is made here, when it is created
    many = behind_bastion(stack, nodes, make_user, count=24)
    many.bastion.sshd_option("MaxStartups 10:30:100")
    many.bastion.sshd_option("LogLevel VERBOSE")  # where sshd says it dropped one
    PushPolicy.objects.create(cluster=stack.cluster, agents_at_once="100%")
    job = stack.push()
    assert sorted(r.status for r in job.results.all()) == ["changed"] * 24, [r.message for r in job.results.all()]
    first, second = job.chunks.all()
    assert first.started_at < second.finished_at and second.started_at < first.finished_at  # two processes
    log = (many.bastion.dir / "sshd.log").read_text()
    assert "past MaxStartups" not in log, log[-2000:]
    assert "MaxStartups 10:30:100" in (many.bastion.read("/etc/regui-harness/sshd_config") or b"").decode()
