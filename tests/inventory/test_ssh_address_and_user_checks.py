"""Every way an SSH address or user comes in (node form, bulk add, inventory import, jump host form)
refuses an option (`-oProxyCommand=...`), spaces, a URL and control characters with a form error, and
keeps host names, IPv4 and IPv6 addresses and directory-style users."""

from __future__ import annotations

import pytest

from regui.inventory.addresses import address_problem, user_problem
from regui.inventory.credentials.services import credential_create
from regui.inventory.jumphosts.models import JumpHost
from regui.inventory.models import Node

pytestmark = pytest.mark.django_db

BAD_ADDRESSES = ["-oProxyCommand=touch /tmp/x", "a b", "http://10.0.0.5/", "10.0.0.5\nx", "é.example", "$(reboot)",
                 "10.0.0.5:22"]
BAD_USERS = ["-oProxyCommand=x", "a b", "r\noot", "$(reboot)", "u;id"]
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nchecks key\n-----END OPENSSH PRIVATE KEY-----\n"


@pytest.mark.parametrize("address", ["10.0.0.5", "node-1.example.com", "fd00::5", "[fd00::5]", "xn--bcher-kva.example",
                                     "node_1"])
def test_host_names_and_ip_addresses_are_fine(address):
    assert address_problem(address) == ""


@pytest.mark.parametrize("user", ["root", "deploy.bot", "ansible-1", "admin@corp.example", "CORP\\admin", "svc$"])
def test_ordinary_and_directory_users_are_fine(user):
    assert user_problem(user) == ""


def _node(**changes):
    return {"name": "n1", "address": "10.0.0.1", "port": "22", "role": "agent", "ssh_user": "root",
            "credential_kind": "password", "credential": "pw", **changes}


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_the_node_form_refuses_a_bad_address(operator_client, cluster, address):
    r = operator_client.post("/clusters/prod/nodes/new/", _node(address=address))
    assert r.status_code == 400 and 'class="field-error"' in r.content.decode() and not Node.objects.exists()


@pytest.mark.parametrize("user", BAD_USERS)
def test_the_node_form_refuses_a_bad_user(operator_client, cluster, user):
    r = operator_client.post("/clusters/prod/nodes/new/", _node(ssh_user=user))
    assert r.status_code == 400 and "An SSH user" in r.content.decode() and not Node.objects.exists()


@pytest.mark.parametrize("lines, ssh_user", [("n1 -oProxyCommand=x agent", "root"), ("n1 $(reboot) agent", "root"),
                                             ("n1 10.0.0.1 agent", "-oProxyCommand=x"), ("n1 10.0.0.1 agent", "a b")])
def test_bulk_add_refuses_a_bad_address_or_user(operator_client, cluster, lines, ssh_user):
    r = operator_client.post("/clusters/prod/nodes/bulk/", {"lines": lines, "ssh_user": ssh_user,
                                                            "credential_kind": "password", "credential": "pw"})
    assert r.status_code == 400 and 'class="field-error"' in r.content.decode() and not Node.objects.exists()


def test_the_import_refuses_a_bad_default_user(operator_client, cluster):
    data = {"text": "[server]\n10.0.0.1\n", "format": "auto", "ssh_user": "-oProxyCommand=x",
            "credential_kind": "password", "credential": "pw"}
    r = operator_client.post("/clusters/prod/nodes/import-inventory/", data)
    assert r.status_code == 400 and "An SSH user" in r.content.decode()
    assert operator_client.post("/clusters/prod/nodes/import-inventory/confirm/", data).status_code == 400
    assert not Node.objects.exists()


@pytest.mark.parametrize("field, value", [*(("address", a) for a in BAD_ADDRESSES), *(("ssh_user", u) for u in BAD_USERS)])
def test_the_jump_host_form_refuses_a_bad_address_or_user(admin_client, make_user, field, value):
    credential_create(user=make_user("root-admin", "admin"), name="jump-key", kind="key", value=KEY)
    r = admin_client.post("/jump-hosts/new/", {"name": "bastion-1", "address": "10.0.0.5", "port": "22",
                                               "ssh_user": "jumper", "credential": "jump-key", field: value})
    assert r.status_code == 400 and 'class="field-error"' in r.content.decode() and not JumpHost.objects.exists()
