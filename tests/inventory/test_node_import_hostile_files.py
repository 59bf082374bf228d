"""Inventory files that are not what they claim, or carry hostile values: the preview and the
confirmation report them in words (left out), never a 500, and nothing hostile becomes a node. A host
that another cluster already has is flagged: two clusters would undo each other's file on it."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from regui.inventory.node_import import nodes_parse

pytestmark = pytest.mark.django_db

SHAPES = {
    "YAML vars as a list": "server:\n  vars: [1]\n  hosts:\n    s1:\n",
    "YAML hosts as a list": "server:\n  hosts: [a, b]\n",
    "YAML children as a list": "server:\n  children: [a]\n",
    "kubectl items of strings": '{"items": ["x"]}',
    "kubectl metadata a string": '{"items": [{"metadata": "x"}]}',
    "kubectl addresses a string": '{"items": [{"metadata": {"name": "a"}, "status": {"addresses": "x"}}]}',
    "kubectl a list of numbers": "[1, 2]",
    "kubectl status a number": '{"items": [{"metadata": {"name": "a"}, "status": 5}]}',
}

HOSTILE = {
    "a user too long to store": "[server]\ns1 ansible_host=10.0.0.1 ansible_user=" + "u" * 100,
    "an option as the user": "[server]\ns1 ansible_host=10.0.0.1 'ansible_user=-oProxyCommand=touch /tmp/x'",
    "a user with a space": "[server]\ns1 ansible_host=10.0.0.1 'ansible_user=a b'",
    "a user with a newline": 'server:\n  hosts:\n    s1:\n      ansible_host: 10.0.0.1\n      ansible_user: "x\\ny"\n',
    "an option as the host": "[server]\n-oProxyCommand ansible_port=22",
    "a command as the address": "[server]\ns1 ansible_host=$(reboot)",
    "a URL as the address": "server:\n  hosts:\n    s1:\n      ansible_host: http://10.0.0.1/\n",
}


def _post(client, url: str, text: str):
    return client.post(url, {"text": text, "format": "auto", "ssh_user": "root",
                             "credential_kind": "password", "credential": "pw"})


@pytest.mark.parametrize("what", list(SHAPES))
def test_a_file_of_the_wrong_shape_is_reported_not_a_500(operator_client, cluster, what):
    parsed = nodes_parse(cluster=cluster, text=SHAPES[what])
    assert parsed.problems and not parsed.nodes
    r = _post(operator_client, "/clusters/prod/nodes/import-inventory/", SHAPES[what])
    assert r.status_code == 200 and parsed.problems[0].split(":")[0] in r.content.decode()
    assert _post(operator_client, "/clusters/prod/nodes/import-inventory/confirm/", SHAPES[what]).status_code < 500
    assert not Node.objects.exists()


@pytest.mark.parametrize("what", list(HOSTILE))
def test_a_hostile_user_or_address_leaves_the_host_out_and_says_why(operator_client, cluster, what):
    parsed = nodes_parse(cluster=cluster, text=HOSTILE[what])
    assert not parsed.nodes and any("left out" in p for p in parsed.problems)
    assert _post(operator_client, "/clusters/prod/nodes/import-inventory/confirm/", HOSTILE[what]).status_code < 500
    assert not Node.objects.exists()


def test_a_good_host_beside_a_hostile_one_is_still_added(cluster):
    parsed = nodes_parse(cluster=cluster, text="[server]\ns1 ansible_host=10.0.0.1 ansible_user=deploy\n"
                                               "s2 ansible_host=10.0.0.2 'ansible_user=-oX'\n")
    assert [(c.name, c.ssh_user) for c in parsed.nodes] == [("s1", "deploy")]
    assert any(p.startswith("line 3: s2: SSH user") for p in parsed.problems)


def test_kubectl_labels_that_are_not_a_mapping_make_an_agent(cluster):
    parsed = nodes_parse(cluster=cluster, text='{"items": [{"metadata": {"name": "a", "labels": ["x"]}, '
                                               '"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}}]}')
    assert [(c.name, c.address, c.role) for c in parsed.nodes] == [("a", "10.0.0.1", "agent")]


RECURSIVE_YAML = "all: &a\n  children:\n    x: *a\n"
# Each level names the one below nine times: 9**7 groups to walk once aliases are followed.
ALIASED_YAML = ("g0: &g0 {hosts: {h1: {}, h2: {}}}\n"
                + "".join(f"g{i}: &g{i} {{children: {{{', '.join(f'c{j}: *g{i - 1}' for j in range(9))}}}}}\n"
                          for i in range(1, 8))
                + "server: {children: {top: *g7}}\n")


def test_a_yaml_group_that_contains_itself_is_reported(cluster):
    parsed = nodes_parse(cluster=cluster, text=RECURSIVE_YAML)
    assert any("contains itself" in p for p in parsed.problems) and not parsed.nodes


def test_yaml_aliases_that_multiply_the_groups_stop_at_a_bound(cluster):
    parsed = nodes_parse(cluster=cluster, text=ALIASED_YAML)
    assert any("more than 10000 groups" in p for p in parsed.problems)
    assert {c.name for c in parsed.nodes} <= {"h1", "h2"}


@pytest.mark.parametrize("text", ["a: " + "[" * 5000 + "]" * 5000, '{"items": ' + "[" * 100000 + "]" * 100000 + "}"])
def test_a_file_nested_too_deep_is_reported_not_a_500(operator_client, cluster, text):
    r = _post(operator_client, "/clusters/prod/nodes/import-inventory/", text)
    assert r.status_code == 200 and "nested deeper than regui reads" in r.content.decode()


def test_a_host_that_is_a_node_of_another_cluster_is_flagged_in_the_preview(operator_client, cluster):
    from regui.registries.models import Cluster

    other = Cluster.objects.create(name="staging", distro="k3s")
    Node.objects.create(cluster=other, name="old-s1", address="10.0.0.1", role="server")
    Node.objects.create(cluster=other, name="other-port", address="10.0.0.2", port=2222, role="agent")
    text = "[server]\ns1 ansible_host=10.0.0.1\n[agent]\na1 ansible_host=10.0.0.2\n"
    parsed = nodes_parse(cluster=cluster, text=text)
    assert [c.name for c in parsed.nodes] == ["s1", "a1"]
    assert parsed.elsewhere == ["s1 (10.0.0.1:22) is node old-s1 of cluster staging: each cluster's push would "
                                "replace the other's file"]
    page = _post(operator_client, "/clusters/prod/nodes/import-inventory/", text).content.decode()
    assert "Also nodes of another cluster" in page and "is node old-s1 of cluster staging" in page
