"""Import nodes (issue 13 item 3): Ansible inventories (INI, YAML) with the k3s Ansible roles' groups and
vars, and `kubectl get nodes -o json`; a preview before anything is saved, then history entries."""

from __future__ import annotations

import json
import re

import pytest

from regui.audit.models import AuditEvent
from regui.inventory.credentials.services import credential_create
from regui.inventory.models import Node
from regui.inventory.node_import import nodes_parse

pytestmark = pytest.mark.django_db

INI = """\
# k3s-ansible's inventory.yml, the INI way
[server]
10.0.0.1 ansible_user=ubuntu
srv2 ansible_host=10.0.0.2 ansible_port=2222

[agent]
10.0.0.3
bad line here
node[01:03]

[k3s_cluster:children]
server
agent

[k3s_cluster:vars]
ansible_user=debian
"""

YAML = """\
k3s_cluster:
  children:
    server:
      hosts:
        192.168.1.10:
    agent:
      hosts:
        agent-a: {ansible_host: 192.168.1.20, ansible_port: 2200}
        agent-b:
          ansible_host: 192.168.1.21
          ansible_user: pi
  vars:
    ansible_user: ubuntu
    k3s_version: v1.30.2+k3s1
"""

OLD_ROLES = """\
[master]
m1 ansible_host=10.1.0.1

[node]
n1 ansible_host=10.1.0.2
lonely ansible_host=10.1.0.9

[k3s_cluster:children]
master
node

[elsewhere]
stray ansible_host=10.1.0.8
"""


def _kubectl(*nodes: tuple[str, str, dict]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"kind": "Node", "metadata": {"name": name, "labels": labels},
         "status": {"addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": ip}]}}
        for name, ip, labels in nodes]})


def _rows(parsed):
    return [(c.name, c.address, c.port, c.role, c.ssh_user) for c in parsed.nodes]


def test_an_ini_inventory_with_the_k3s_ansible_groups_and_vars(cluster):
    parsed = nodes_parse(cluster=cluster, text=INI)
    assert parsed.format == "ini"
    assert _rows(parsed) == [("10-0-0-1", "10.0.0.1", 22, "server", "ubuntu"),
                             ("srv2", "10.0.0.2", 2222, "server", "debian"),
                             ("10-0-0-3", "10.0.0.3", 22, "agent", "debian")]
    assert parsed.problems == ["line 8: expected `host key=value ...`, got 'line'",
                               "line 9: host ranges (node[01:03]) are not expanded: list the hosts"]


def test_a_yaml_inventory_with_the_k3s_ansible_groups_and_vars(cluster):
    parsed = nodes_parse(cluster=cluster, text=YAML)
    assert parsed.format == "yaml"
    assert _rows(parsed) == [("192-168-1-10", "192.168.1.10", 22, "server", "ubuntu"),
                             ("agent-a", "192.168.1.20", 2200, "agent", "ubuntu"),
                             ("agent-b", "192.168.1.21", 22, "agent", "pi")]
    assert parsed.problems == []


def test_a_yaml_inventory_that_starts_with_a_document_marker_is_read_as_yaml(cluster):
    for start in ("---\n", "%YAML 1.2\n---\n", "# inventory.yml\n--- # k3s\n"):
        parsed = nodes_parse(cluster=cluster, text=start + YAML)
        assert parsed.format == "yaml" and len(parsed.nodes) == 3 and parsed.problems == [], start


def test_the_master_and_node_groups_and_a_host_in_no_role_group(cluster):
    parsed = nodes_parse(cluster=cluster, text=OLD_ROLES)
    assert [(c.name, c.role) for c in parsed.nodes] == [("m1", "server"), ("n1", "agent"), ("lonely", "agent")]
    assert parsed.problems == ["line 13: stray is in no server or agent group (elsewhere): left out"]


def test_kubectl_json_gives_internal_ips_and_control_plane_labels_make_servers(cluster):
    text = _kubectl(("cp-1", "10.2.0.1", {"node-role.kubernetes.io/control-plane": "true"}),
                    ("old-master", "10.2.0.2", {"node-role.kubernetes.io/master": ""}),
                    ("worker-1", "10.2.0.3", {"kubernetes.io/os": "linux"}))
    parsed = nodes_parse(cluster=cluster, text=text)
    assert parsed.format == "kubectl"
    assert _rows(parsed) == [("cp-1", "10.2.0.1", 22, "server", ""), ("old-master", "10.2.0.2", 22, "server", ""),
                             ("worker-1", "10.2.0.3", 22, "agent", "")]


def test_kubectl_nodes_without_an_internal_ip_and_broken_json_are_reported(cluster):
    text = json.dumps({"kind": "List", "items": [{"metadata": {"name": "x"}, "status": {"addresses": []}}]})
    assert nodes_parse(cluster=cluster, text=text).problems == ["item 1 (x): no InternalIP address: left out"]
    assert nodes_parse(cluster=cluster, text='{"items": [').problems[0].startswith("line 1: not JSON")


def test_duplicates_and_nodes_already_in_the_cluster_are_reported_not_added(cluster):
    Node.objects.create(cluster=cluster, name="srv2", address="10.9.9.9")
    Node.objects.create(cluster=cluster, name="other", address="10.0.0.3")
    text = INI + "\n[server]\nagain ansible_host=10.0.0.1 ansible_user=ubuntu\n"
    parsed = nodes_parse(cluster=cluster, text=text)
    assert [c.name for c in parsed.nodes] == ["10-0-0-1"]
    assert parsed.skipped == ["srv2 (10.0.0.2:2222) is already a node of prod",
                              "10-0-0-3 (10.0.0.3:22) is already a node of prod (other)"]
    assert "line 19: again (10.0.0.1:22) appears more than once: the first is kept" in parsed.problems


def test_the_preview_lists_the_nodes_and_saves_nothing(operator_client, cluster):
    r = operator_client.post("/clusters/prod/nodes/import-inventory/",
                             {"text": INI, "format": "auto", "ssh_user": "root"})
    page = r.content.decode()
    assert r.status_code == 200 and "Read as Ansible inventory (INI): 3 node(s) to add." in page
    assert "srv2" in page and "host ranges (node[01:03]) are not expanded" in page
    assert "Add 3 node(s)" in page
    assert not Node.objects.exists()


def test_a_preview_with_nothing_to_add_goes_back_to_the_inventory_as_pasted(operator_client, cluster):
    pasted = {"text": "[web]\n10.0.0.1\n", "format": "auto", "ssh_user": "ubuntu", "use_sudo": "on"}
    page = operator_client.post("/clusters/prod/nodes/import-inventory/", pasted).content.decode()
    assert "0 node(s) to add" in page and "Add 0" not in page
    back = re.search(r'<form method="post" action="/clusters/prod/nodes/import-inventory/" id="import-back">(.*?)</form>',
                     page, re.S)
    assert back and "Back to the inventory" in back[1]
    sent = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', back[1]))
    assert sent.pop("csrfmiddlewaretoken") and sent == {"edit": "1", "text": "[web]\n10.0.0.1\n", "format": "auto", "ssh_user": "ubuntu", "use_sudo": "on"}
    r = operator_client.post("/clusters/prod/nodes/import-inventory/", sent)
    page = r.content.decode()
    assert r.status_code == 200 and "[web]\n10.0.0.1\n</textarea>" in page and "to add" not in page
    assert 'value="ubuntu"' in page and 'name="use_sudo" id="id_use_sudo" checked' in page


def test_going_back_from_a_refused_confirmation_keeps_sudo_off(operator_client, cluster):
    page = operator_client.post("/clusters/prod/nodes/import-inventory/confirm/", {
        "text": INI, "format": "ini", "ssh_user": "root", "use_sudo": "False", "credential_kind": "key",
        "credential": "not a key"}).content.decode()
    back = re.search(r'id="import-back">(.*?)</form>', page, re.S)
    assert back and 'name="text"' in back[1] and 'name="use_sudo"' not in back[1]


def test_confirming_adds_the_nodes_with_a_shared_credential_and_records_history(operator_client, cluster, make_user):
    credential_create(user=make_user("root-admin", "admin"), name="fleet", kind="password", value="pw-imp-1")
    r = operator_client.post("/clusters/prod/nodes/import-inventory/confirm/", {
        "text": YAML, "format": "yaml", "ssh_user": "root", "shared_credential": "fleet",
        "credential_kind": "key", "credential": ""}, follow=True)
    assert "Imported 3 node(s)." in r.content.decode()
    nodes = {n.name: n for n in Node.objects.filter(cluster=cluster)}
    assert {n: (x.address, x.port, x.role, x.ssh_user, x.shared_credential.credential.name, x.sealed)
            for n, x in nodes.items()} == {
        "192-168-1-10": ("192.168.1.10", 22, "server", "ubuntu", "fleet", ""),
        "agent-a": ("192.168.1.20", 2200, "agent", "ubuntu", "fleet", ""),
        "agent-b": ("192.168.1.21", 22, "agent", "pi", "fleet", "")}
    assert all(n.address_changed_by == "olivia" for n in nodes.values())
    events = AuditEvent.objects.filter(object_type="node", action="create")
    assert events.count() == 3
    assert {e.message for e in events} == {"imported from Ansible inventory (YAML)"}
    assert all(e.changes["shared credential"] == [None, "fleet"] for e in events)


def test_confirming_with_a_typed_credential_seals_it_for_each_node(operator_client, cluster):
    r = operator_client.post("/clusters/prod/nodes/import-inventory/confirm/", {
        "text": _kubectl(("w1", "10.3.0.1", {})), "format": "auto", "ssh_user": "core",
        "credential_kind": "password", "credential": "pw-typed-2"}, follow=True)
    assert "Imported 1 node(s)." in r.content.decode()
    node = Node.objects.get()
    assert (node.name, node.ssh_user, node.unseal_credential()) == ("w1", "core", "pw-typed-2")
    assert AuditEvent.objects.get(object_type="node").changes["credential"] == [None, "(set)"]


def test_a_viewer_cannot_import(viewer_client, cluster):
    assert viewer_client.post("/clusters/prod/nodes/import-inventory/", {"text": INI}).status_code == 403
    assert viewer_client.post("/clusters/prod/nodes/import-inventory/confirm/", {"text": INI}).status_code == 403


@pytest.mark.parametrize("with_nodes", [False, True])
def test_the_node_list_links_to_the_import_for_operators_and_admins_only(with_nodes, make_user, cluster):
    from django.test import Client

    if with_nodes:
        Node.objects.create(cluster=cluster, name="n1", address="10.0.0.1")
    link = 'href="/clusters/prod/nodes/import-inventory/"'
    for username, role in (("olivia", "operator"), ("alice", "admin"), ("victor", "viewer")):
        client = Client()
        client.force_login(make_user(username, role))
        page = client.get("/clusters/prod/nodes/").content.decode()
        assert (link in page) == (role != "viewer"), role
        if role != "viewer":
            assert client.get("/clusters/prod/nodes/import-inventory/").status_code == 200
