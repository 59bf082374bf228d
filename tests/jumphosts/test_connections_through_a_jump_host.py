"""Every connection regui makes to a node goes through the node's jump host when it has one (its own,
else its cluster's): push, drift check, node checks, import from the node, scan. The gate refuses before
anything is sent while the jump host's key is not approved; each failure names its hop."""

from __future__ import annotations

import pytest

from regui.inventory.jumphosts.models import NodeJumpHost
from regui.inventory.known_hosts import scan_unscanned
from regui.inventory.models import Node
from regui.inventory.services import NodeError, node_read_registries, node_scan_host_key, node_target
from tests.jumphosts.helpers import register_jump_host

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bastion(fleet):
    host = fleet.fake.jump_host("bastion-1")
    return host, register_jump_host(host, cluster=fleet.cluster)


def test_a_push_reaches_a_node_that_only_its_jump_host_reaches(fleet, bastion):
    host, _ = bastion
    nodes = fleet.add("agent", "agent", only_via="bastion-1")
    job = fleet.push()
    results = fleet.results(job)
    assert {r.status for r in results.values()} == {"changed"}, {n: r.message for n, r in results.items()}
    assert all(fleet[n.name].read("/etc/rancher/k3s/registries.yaml") for n in nodes)
    assert sorted(host.forwards) == sorted((n.address, 22) for n in nodes)


def test_without_its_jump_host_the_node_is_unreachable(fleet, bastion):
    [node] = fleet.add("agent", only_via="bastion-1")
    NodeJumpHost.objects.create(node=node, jump_host=None, chosen_by="alice")  # "directly", overriding the cluster
    result = fleet.results(fleet.push())["a1"]
    assert result.status == "unreachable" and "No route to host" in result.message
    assert fleet["a1"].read("/etc/rancher/k3s/registries.yaml") is None


def test_a_node_may_name_its_own_jump_host_over_its_clusters(fleet, bastion):
    other = fleet.fake.jump_host("bastion-2")
    jump = register_jump_host(other)
    [node] = fleet.add("agent", only_via="bastion-2")
    NodeJumpHost.objects.create(node=node, jump_host=jump, chosen_by="alice")
    assert fleet.results(fleet.push())["a1"].status == "changed"
    assert other.forwards == [(node.address, 22)] and bastion[0].forwards == []


def test_nothing_is_sent_while_the_jump_hosts_key_is_not_approved(fleet, bastion):
    host, jump = bastion
    jump.host_key_approved_at = None
    jump.save()
    [node] = fleet.add("agent", only_via="bastion-1")
    result = fleet.results(fleet.push())["a1"]
    assert result.status == "failed"
    assert result.message.startswith("the node is reached through jump host bastion-1, which has no approved host "
                                     "key") and "Nothing was sent." in result.message
    assert host.logins == [] and fleet["a1"].connects == []
    with pytest.raises(NodeError, match="jump host bastion-1, which has no approved host key"):
        node_scan_host_key(node=node)  # a scan logs in to the jump host: its key first


def test_a_changed_jump_host_key_fails_the_push_naming_the_jump_host(fleet, bastion):
    host, jump = bastion
    fleet.add("agent", only_via="bastion-1")
    old = host.host_key.fingerprint
    host.host_key = fleet.fake.jump_host("spare").host_key  # the bastion was reinstalled
    result = fleet.results(fleet.push())["a1"]
    assert result.status == "failed"
    assert result.message.startswith(f"jump host bastion-1 ({host.address}:22): host key changed: approved "
                                     f"ssh-ed25519 {old}, the jump host now presents")
    assert fleet["a1"].connects == []


def test_a_jump_host_that_forwards_nothing_fails_the_push_naming_it(fleet, bastion):
    host, _ = bastion
    host.forwarding = False
    fleet.add("agent", only_via="bastion-1")
    result = fleet.results(fleet.push())["a1"]
    assert result.status == "failed"
    assert result.message.startswith(f"jump host bastion-1 ({host.address}:22): refused to open a connection to "
                                     "node a1 (")
    assert "AllowTcpForwarding" in result.message


def test_an_unreachable_jump_host_makes_its_nodes_unreachable_naming_it(fleet, bastion):
    host, _ = bastion
    host.network = "refused"
    fleet.add("agent", only_via="bastion-1")
    result = fleet.results(fleet.push())["a1"]
    assert result.status == "unreachable"
    assert result.message.startswith(f"jump host bastion-1 ({host.address}:22): cannot connect to {host.address}:22")
    assert Node.objects.get(name="a1").sync_state == Node.Sync.UNREACHABLE


def test_a_changed_node_key_behind_the_jump_host_names_the_node_and_the_way(fleet, bastion):
    [node] = fleet.add("agent", only_via="bastion-1")
    fleet["a1"].rotate_host_key()
    result = fleet.results(fleet.push())["a1"]
    assert result.status == "failed"
    assert result.message.startswith(f"node a1 ({node.address}:22) via jump host bastion-1: host key of "
                                     f"{node.address}:22 changed")


def test_a_node_refusing_its_credential_behind_the_jump_host_is_named(fleet, bastion):
    [node] = fleet.add("agent", only_via="bastion-1")
    fleet["a1"].credential = "another key"
    result = fleet.results(fleet.push())["a1"]
    assert result.message == f"node a1 ({node.address}:22) via jump host bastion-1: root@{node.address} refused the credentials"


def test_the_jump_hosts_credential_is_its_own_and_read_at_each_connection(fleet, bastion):
    _, jump = bastion
    [node] = fleet.add("agent", only_via="bastion-1")
    target = node_target(node)
    assert target.jump is not None and target.jump.name == "bastion-1"
    assert target.jump.target.private_key == bastion[0].credential != target.private_key
    jump.credential.seal_value("rotated key")
    jump.credential.save()
    assert node_target(node).jump.target.private_key == "rotated key"


def test_a_scan_reads_the_node_key_through_the_jump_host(fleet, bastion):
    host, _ = bastion
    [node] = fleet.add("agent", approve=False, only_via="bastion-1")
    key = node_scan_host_key(node=node)
    assert key == fleet["a1"].host_key and node.scanned_key == key.key
    assert host.forwards == [(node.address, 22)] and fleet["a1"].connects == []


def test_scan_all_goes_through_the_jump_host_too(fleet, bastion):
    fleet.add("agent", "agent", approve=False, only_via="bastion-1")
    report = scan_unscanned(cluster=fleet.cluster)
    assert report.failed == [] and sorted(n.name for n, _ in report.scanned) == ["a1", "a2"]


def test_an_import_from_the_node_goes_through_the_jump_host(fleet, bastion):
    [node] = fleet.add("agent", only_via="bastion-1")
    fleet["a1"].write("/etc/rancher/k3s/registries.yaml", b"mirrors: {}\n")
    assert node_read_registries(node=node) == "mirrors: {}\n"


def test_a_drift_check_goes_through_the_jump_host(fleet, bastion):
    fleet.add("agent", only_via="bastion-1")
    fleet.push()
    fleet["a1"].write("/etc/rancher/k3s/registries.yaml", b"changed by hand\n")
    assert fleet.results(fleet.push(kind="drift"))["a1"].status == "drifted"
    assert Node.objects.get(name="a1").sync_state == Node.Sync.DRIFTED
    assert bastion[0].forwards.count((Node.objects.get(name="a1").address, 22)) == 2


def test_a_node_loaded_with_its_jump_host_needs_no_query_to_connect(fleet, bastion, django_assert_num_queries):
    from regui.inventory.credentials.services import WITH_LOGIN
    from regui.inventory.jumphosts.routing import WITH_JUMP

    [node] = fleet.add("agent", only_via="bastion-1")
    loaded = Node.objects.select_related("cluster", WITH_LOGIN, *WITH_JUMP).get(pk=node.pk)
    with django_assert_num_queries(0):
        target = node_target(loaded)
    assert target.jump is not None and target.jump.name == "bastion-1"
    assert node_target(Node.objects.get(pk=node.pk)) == target, "read now when not loaded with the node"


def test_servers_rolled_one_at_a_time_are_connected_ahead_through_the_jump_host(fleet, bastion):
    fleet.add("server", "server", "agent", only_via="bastion-1")
    for node in fleet.fake.nodes.values():
        node.set_systemctl(restart_seconds=0.2)
    job = fleet.push()
    assert {r.status for r in fleet.results(job).values()} == {"changed"}
    s1 = next(e.span for e in fleet.fake.execs() if e.node == "s1")
    (opened,) = fleet["s2"].handshakes
    assert opened < s1.end, "s2's connection was opened through the jump host during s1's step"
    assert len(fleet["s2"].connects) == 1


@pytest.mark.parametrize(("credential", "logins"), [("", 1), ("s3cret-pass", 0)], ids=["key", "password"])
def test_a_node_skipped_after_its_connection_was_opened_through_the_jump_host_gets_no_command_nor_password(
        fleet, bastion, credential, logins):
    fleet.add("server", "server", only_via="bastion-1", credential=credential)
    fleet["s1"].set_systemctl(restart_seconds=0.2, restart_fails=True)
    results = fleet.results(fleet.push())
    assert results["s2"].status == "skipped"
    assert fleet["s2"].handshakes and fleet["s2"].execs == []
    assert len(fleet["s2"].connects) == logins, "a key logs in ahead (a signature for that connection only)"


def test_the_ssh_layer_gets_the_bound_on_logins_in_progress_from_the_settings(fleet, bastion, settings):
    settings.REGUI_JUMP_HANDSHAKES = 3
    [node] = fleet.add("agent", only_via="bastion-1")
    target = node_target(node)
    assert target.jump is not None and target.jump.handshakes == 3
