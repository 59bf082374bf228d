"""Import from node offers the Import button only for a file it would import: for one it withholds (a
credential where text is shown), one K3s would refuse, or one beyond regui's limits, the page says why
nothing can be imported instead of offering a confirmation that refuses."""

from __future__ import annotations

import html

import pytest

from tests.fakes.fleet import register
from tests.registries.test_node_file_secret_names import HOSTILE

pytestmark = pytest.mark.django_db

BUTTON = '<button type="submit" class="primary">Import</button>'
FILES = {
    "withheld": HOSTILE["a mirror name that is an alias of the password"],
    "refused by K3s": "mirrors:\n  docker.io:\n    endpoint: https://m\n",
    "no registry in it": "foo: 1\n",
}


def _preview(fake_ssh, cluster, client, text: str) -> str:
    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", text.encode())
    answer = client.post(f"/clusters/{cluster.name}/nodes/{register(cluster, fake).pk}/import/")
    assert answer.status_code == 200
    return html.unescape(answer.content.decode())


@pytest.mark.parametrize("what", list(FILES))
def test_a_file_that_cannot_be_imported_is_offered_no_import(fake_ssh, cluster, operator_client, what):
    page = _preview(fake_ssh, cluster, operator_client, FILES[what])
    assert BUTTON not in page and 'name="confirm"' not in page
    assert "Nothing can be imported from this file" in page


def test_a_file_that_can_be_imported_is_offered_import(fake_ssh, cluster, operator_client):
    page = _preview(fake_ssh, cluster, operator_client, "mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n")
    assert BUTTON in page and "Nothing can be imported" not in page


def test_a_viewer_cannot_read_a_nodes_file_nor_confirm_its_import(fake_ssh, cluster, viewer_client):
    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", b"mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n")
    url = f"/clusters/{cluster.name}/nodes/{register(cluster, fake).pk}/import/"
    assert viewer_client.post(url).status_code == 403
    assert viewer_client.post(url, {"confirm": "1", "replace": "1"}).status_code == 403
    assert not any(k.startswith("node-import-") for k, _ in viewer_client.session.items())
