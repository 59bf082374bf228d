"""Import from node, refused: the node's file holds credentials in clear, and no one who may import it
typed them, so a refusal says what is wrong and on which lines, never what those lines hold; even a line
that reads like a shell command (a password folded onto its own line) is not quoted."""

from __future__ import annotations

import pytest

from tests.fakes.fleet import register

pytestmark = pytest.mark.django_db

PASSWORD = "echo tango-node-pw-7"
FILE = ("configs:\n  reg.example.com:\n    auth:\n      username: bot\n      password: >-\n"
        f"        {PASSWORD}\nmirrors:\n  docker.io:\n    endpoint: 5\n").encode()


def test_a_refused_import_from_a_node_quotes_no_line_of_its_file(fake_ssh, cluster, operator_client):
    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", FILE)
    url = f"/clusters/prod/nodes/{register(cluster, fake).pk}/import/"
    assert "tango-node-pw-7" not in operator_client.post(url).content.decode()
    page = operator_client.post(url, {"confirm": "1"}, follow=True).content.decode()
    assert "would refuse this file" in page and "tango-node-pw-7" not in page


def test_a_credential_where_k3s_wants_a_mapping_is_not_quoted_by_the_refusal(fake_ssh, cluster, operator_client):
    """K3s's own message quotes a value it cannot decode (up to 10 bytes, else the first 7): an `auth`
    string written where the auth mapping goes is a credential."""
    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", b'configs:\n  reg.example.com:\n    auth: "pw-9sec"\n'
                                                   b'  other.example.com:\n    auth: "Ym90OnNlY3JldC1wYXNz"\n')
    url = f"/clusters/prod/nodes/{register(cluster, fake).pk}/import/"
    preview = operator_client.post(url).content.decode()
    refusal = operator_client.post(url, {"confirm": "1"}, follow=True).content.decode()
    for page in (preview, refusal):
        assert "cannot unmarshal !!str into registries.AuthConfig" in page
        assert "pw-9sec" not in page and "Ym90OnN" not in page
