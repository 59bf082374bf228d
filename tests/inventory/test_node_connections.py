"""In-process (fake nodes): Scan host key and Import from node, through the same transport a push uses."""

from __future__ import annotations

import pytest

from regui.inventory.services import NodeError, node_read_registries, node_scan_host_key
from tests.fakes.fleet import register

pytestmark = pytest.mark.django_db

FILE = (b'mirrors:\n  ghcr.io:\n    endpoint: ["https://ghcr-mirror.example.com"]\n'
        b'configs:\n  ghcr-mirror.example.com:\n    auth: {username: bot, password: "node-only-pw-5"}\n')


def test_a_scan_keeps_the_presented_key_for_approval_and_trusts_nothing(fake_ssh, cluster):
    fake = fake_ssh.node("n1")
    node = register(cluster, fake, approve=False)
    key = node_scan_host_key(node=node)
    node.refresh_from_db()
    assert key == fake.host_key
    assert (node.scanned_key, node.scanned_fingerprint) == (fake.host_key.key, fake.host_key.fingerprint)
    assert not node.has_approved_key


def test_a_rescan_after_a_key_change_warns_and_keeps_the_approved_key(fake_ssh, cluster, operator_client):
    fake = fake_ssh.node("n1")
    node = register(cluster, fake)
    approved = node.host_key
    fake.rotate_host_key()
    page = operator_client.post(f"/clusters/prod/nodes/{node.pk}/scan/", follow=True).content.decode()
    assert f"now presents ssh-ed25519 {fake.host_key.fingerprint}, not the approved" in page
    node.refresh_from_db()
    assert node.host_key == approved and node.scanned_key == fake.host_key.key


def test_a_scan_of_an_unreachable_node_says_why(fake_ssh, cluster, operator_client):
    fake = fake_ssh.node("n1", network="refused")
    node = register(cluster, fake, approve=False)
    page = operator_client.post(f"/clusters/prod/nodes/{node.pk}/scan/", follow=True).content.decode()
    assert f"Scan of n1 failed: cannot connect to {fake.address}:22: Connection refused" in page
    node.refresh_from_db()
    assert node.scanned_key == ""


def test_reading_a_node_returns_its_file_as_it_is(fake_ssh, cluster):
    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", FILE)
    assert node_read_registries(node=register(cluster, fake)) == FILE.decode()
    assert fake.execs[0].command == "sh -s"


def test_reading_a_node_without_the_file_says_so(fake_ssh, cluster):
    node = register(cluster, fake_ssh.node("n1"))
    with pytest.raises(NodeError, match=r"^n1 has no /etc/rancher/k3s/registries\.yaml\.$"):
        node_read_registries(node=node)


def test_reading_a_node_whose_key_changed_is_refused_before_anything_runs(fake_ssh, cluster):
    fake = fake_ssh.node("n1")
    node = register(cluster, fake)
    fake.rotate_host_key()
    with pytest.raises(NodeError, match="changed: approved .* Nothing was sent"):
        node_read_registries(node=node)
    assert fake.execs == []


def test_import_from_node_shows_it_redacted_and_imports_on_confirmation(fake_ssh, cluster, operator_client):
    from regui.registries.models import Mirror, Secret

    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", FILE)
    url = f"/clusters/prod/nodes/{register(cluster, fake).pk}/import/"
    page = operator_client.post(url).content.decode()
    assert "ghcr-mirror.example.com" in page and "node-only-pw-5" not in page
    assert "node-only-pw-5" not in str(dict(operator_client.session))
    assert operator_client.post(url, {"confirm": "1"}).status_code == 302
    assert Mirror.objects.filter(cluster=cluster, hostname="ghcr.io").exists()
    assert Secret.objects.get(username="bot").unseal() == {"password": "node-only-pw-5"}
