"""The pages that edit or choose one thing (a jump host, a cluster's or a node's jump host, a node's
credential) share one Save/Cancel form: each cancels back to the page it was reached from, and shows
the form's own errors."""

from __future__ import annotations

import re

import pytest

from regui.inventory.credentials.services import credential_create
from tests.fakes.fleet import register
from tests.jumphosts.helpers import register_jump_host

pytestmark = pytest.mark.django_db

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ncancel page key\n-----END OPENSSH PRIVATE KEY-----\n"


def cancel_link(page: str) -> str:
    found = re.findall(r'<a href="([^"]*)">Cancel</a>', page)
    assert len(found) == 1, found
    return found[0]


def test_each_save_form_cancels_back_to_where_it_was_reached_from(admin_client, fake_ssh, cluster):
    register_jump_host(fake_ssh.jump_host("bastion-1"))
    node = register(cluster, fake_ssh.node("n1"))
    pages = {"/jump-hosts/new/": "/jump-hosts/",
             "/jump-hosts/bastion-1/edit/": "/jump-hosts/bastion-1/",
             "/clusters/prod/jump-host/": "/jump-hosts/",
             f"/clusters/prod/nodes/{node.pk}/jump-host/": f"/clusters/prod/nodes/{node.pk}/",
             f"/clusters/prod/nodes/{node.pk}/credential/": f"/clusters/prod/nodes/{node.pk}/"}
    for url, back in pages.items():
        r = admin_client.get(url)
        page = r.content.decode()
        assert r.status_code == 200 and 'class="primary">Save</button>' in page, url
        assert cancel_link(page) == back, url
        assert "csrfmiddlewaretoken" in page, url


def test_a_save_form_shows_the_errors_of_its_form(admin_client, make_user):
    credential_create(user=make_user("root-admin", "admin"), name="jump-key", kind="key", value=KEY)
    r = admin_client.post("/jump-hosts/new/", {"name": "new", "address": "10.0.0.5", "port": "0", "ssh_user": "j",
                                               "credential": "jump-key"})
    page = r.content.decode()
    assert r.status_code == 400 and "Choose another name." in page and "Port must be from 1 to 65535." in page
    assert cancel_link(page) == "/jump-hosts/"
