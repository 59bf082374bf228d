"""Check drift compares every node's file with the render; Import from node reads one back."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_check_drift_reads_hashes_and_writes_nothing(stack, nodes, client):
    h = nodes(3)
    stack.add(h)
    stack.push(nodes=stack.nodes[:2])
    h.nodes[1].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n", 0o644, 0, 0)
    job = stack.push(kind="drift")
    res = stack.results(job)
    assert (res["node1"].status, res["node2"].status, res["node3"].status) == ("in_sync", "drifted", "drifted")
    assert "missing" in res["node3"].message
    assert h.nodes[1].read("/etc/rancher/k3s/registries.yaml") == b"# edited by hand\n"
    assert all(len(hn.restarts()) == (1 if i < 2 else 0) for i, hn in enumerate(h.nodes))
    client.force_login(stack.user)
    page = client.get(f"/clusters/{stack.cluster.name}/nodes/").content.decode()
    assert [page.count(f'data-badge="{b}"') for b in ("in_sync", "drifted", "never")] == [1, 1, 1]


def test_push_to_failed_nodes_retries_only_those(stack, nodes, client):
    h = nodes(2)
    stack.add(h)
    h.nodes[0].reject_ssh()
    stack.push()
    h.nodes[0].allow_ssh()
    client.force_login(stack.user)
    shown = client.post(f"/clusters/{stack.cluster.name}/push/", {"scope": "failed"}, follow=True).content.decode()
    assert 'name="nodes" value' in shown and shown.count('name="nodes" value') == 1, "the failed node only"
    stack.cluster.refresh_from_db()
    r = client.post(f"/clusters/{stack.cluster.name}/push/confirm/", {
        "confirm": "1", "revision": stack.cluster.revision, "scope": "failed", "nodes": [stack.nodes[0].pk]})
    from regui.pushes.models import PushJob

    job = stack.wait(PushJob.objects.order_by("-id").first())
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    assert [x.node_name.split("-")[0] for x in job.results.all()] == ["node1"]
    assert job.results.get().status == "changed"


def test_import_from_node_shows_it_redacted_and_imports_on_confirmation(stack, nodes, client):
    h = nodes(1)
    (node,) = stack.add(h)
    h.nodes[0].write("/etc/rancher/k3s/registries.yaml",
                     b'mirrors:\n  ghcr.io:\n    endpoint: ["https://ghcr-mirror.example.com"]\n'
                     b'configs:\n  ghcr-mirror.example.com:\n    auth: {username: bot, password: "node-only-pw-5"}\n',
                     0o600, 0, 0)
    client.force_login(stack.user)
    url = f"/clusters/{stack.cluster.name}/nodes/{node.pk}/import/"
    page = client.post(url).content.decode()
    assert "ghcr-mirror.example.com" in page and "node-only-pw-5" not in page
    assert "node-only-pw-5" not in str(dict(client.session))
    r = client.post(url, {"confirm": "1"})
    assert r.status_code == 302
    from regui.registries.models import Mirror, Secret

    assert Mirror.objects.filter(cluster=stack.cluster, hostname="ghcr.io").exists()
    assert Secret.objects.get(username="bot").unseal() == {"password": "node-only-pw-5"}
