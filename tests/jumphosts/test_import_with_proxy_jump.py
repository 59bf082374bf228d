"""An Ansible inventory's `-J` / ProxyJump (in ansible_ssh_common_args or ansible_ssh_extra_args) names
the imported node's jump host when a jump host of regui has that address and port, and only when an admin
imports: an operator's import adds the nodes reached as their cluster's are, and the preview says so."""

from __future__ import annotations

import pytest

from regui.inventory.inventory_files import jump_address, proxy_jump
from regui.inventory.jumphosts.models import NodeJumpHost
from regui.inventory.jumphosts.routing import jump_for
from regui.inventory.models import Node
from regui.inventory.node_import import nodes_parse
from tests.jumphosts.helpers import register_jump_host

pytestmark = pytest.mark.django_db

INI = """\
[server]
s1 ansible_host=10.1.0.1
[agent]
a1 ansible_host=10.1.0.2 ansible_ssh_extra_args="-o ProxyJump=deploy@203.0.113.9:2222"
a2 ansible_host=10.1.0.3
[k3s_cluster:children]
server
agent
[k3s_cluster:vars]
ansible_ssh_common_args='-J jumper@{bastion}'
"""


@pytest.mark.parametrize(("args", "hop"), [
    ("-J jumper@10.0.0.5", "jumper@10.0.0.5"), ("-J10.0.0.5:2222,other", "10.0.0.5:2222"),
    ("-o ProxyJump=ssh://u@bastion.example", "ssh://u@bastion.example"), ("-oProxyJump=[fd00::5]:22", "[fd00::5]:22"),
    ("-o StrictHostKeyChecking=no", ""), ("-o ProxyJump=none", ""), ("-J 'unclosed", "")])
def test_the_first_hop_is_read_from_the_ssh_args(args, hop):
    assert proxy_jump({"ansible_ssh_common_args": args}) == hop


def test_a_hop_gives_the_address_and_port_a_jump_host_is_found_by():
    assert jump_address("jumper@10.0.0.5") == ("10.0.0.5", 22)
    assert jump_address("ssh://u@bastion.example:2222") == ("bastion.example", 2222)
    assert jump_address("[fd00::5]:2200") == ("fd00::5", 2200)


@pytest.fixture
def bastion(fake_ssh):
    host = fake_ssh.jump_host("bastion-1")
    return host, register_jump_host(host)


def test_the_preview_names_each_nodes_jump_host_and_an_unknown_one(operator_client, cluster, bastion):
    parsed = nodes_parse(cluster=cluster, text=INI.format(bastion=bastion[0].address))
    assert {c.name: c.jump_host for c in parsed.nodes} == {"s1": "bastion-1", "a1": "", "a2": "bastion-1"}
    assert parsed.notes == ["line 4: a1: ProxyJump deploy@203.0.113.9:2222 is no jump host of regui (an admin adds it "
                            "on the Jump hosts page): added without one"]
    page = operator_client.post("/clusters/prod/nodes/import-inventory/", {
        "text": INI.format(bastion=bastion[0].address), "format": "auto", "ssh_user": "root"}).content.decode()
    assert "bastion-1" in page and "Only an admin can choose a node's jump host" in " ".join(page.split())


def test_an_admins_import_gives_the_nodes_their_jump_host(admin_client, cluster, bastion):
    r = admin_client.post("/clusters/prod/nodes/import-inventory/confirm/", {
        "text": INI.format(bastion=bastion[0].address), "format": "ini", "ssh_user": "root",
        "credential_kind": "password", "credential": "pw-imp-9"}, follow=True)
    assert "Imported 3 node(s)." in r.content.decode()
    route = {n.name: jump_for(n) for n in Node.objects.filter(cluster=cluster)}
    assert route == {"s1": bastion[1], "a1": None, "a2": bastion[1]}


def test_an_operators_import_chooses_no_jump_host(operator_client, cluster, bastion):
    operator_client.post("/clusters/prod/nodes/import-inventory/confirm/", {
        "text": INI.format(bastion=bastion[0].address), "format": "ini", "ssh_user": "root",
        "credential_kind": "password", "credential": "pw-imp-9"})
    assert Node.objects.filter(cluster=cluster).count() == 3 and not NodeJumpHost.objects.exists()
