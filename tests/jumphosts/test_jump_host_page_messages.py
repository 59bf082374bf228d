"""What the pages say after a jump host choice or a rotation, in plain words: a node set to connect
directly says so (not "through none"), one following its cluster says through what, and rotating a
credential a jump host logs in with names that jump host too."""

from __future__ import annotations

import pytest

from tests.fakes.fleet import register
from tests.jumphosts.helpers import register_jump_host

pytestmark = pytest.mark.django_db


def test_the_node_choice_message_says_directly_or_through_what(admin_client, cluster, fake_ssh):
    register_jump_host(fake_ssh.jump_host("bastion-1"), cluster=cluster)
    node = register(cluster, fake_ssh.node("n1"))
    url = f"/clusters/prod/nodes/{node.pk}/jump-host/"
    page = admin_client.post(url, {"jump_host": ""}, follow=True).content.decode()
    assert "n1 is reached directly, through no jump host." in page and "through none" not in page
    page = admin_client.post(url, {"jump_host": ":cluster"}, follow=True).content.decode()
    assert "n1 is reached as its cluster&#x27;s nodes are: through bastion-1." in page


def test_rotating_a_jump_hosts_credential_names_the_jump_host(admin_client, cluster, fake_ssh):
    jump = register_jump_host(fake_ssh.jump_host("bastion-1"))
    r = admin_client.post(f"/ssh-credentials/{jump.credential.name}/rotate/", {"kind": "password", "value": "new-pw-1"},
                          follow=True)
    assert "Rotated bastion-1-key: jump host bastion-1 uses the new value from the next connection" in r.content.decode()
