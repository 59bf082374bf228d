"""What a push writes on the nodes, and when it restarts (real worker, real sshd per node)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.pages import post_registries

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def export(cluster) -> bytes:
    out = io.StringIO()
    call_command("export_registries", "--cluster", cluster.name, stdout=out)
    return out.getvalue().encode()


def test_the_first_push_writes_a_0600_file_identical_to_the_export(stack, nodes):
    h = nodes(2)
    stack.add(h, roles=["server", "agent"])
    job = stack.push()
    res = stack.results(job)
    assert {r.status for r in res.values()} == {"changed"}, [r.message for r in res.values()]
    for hn in h.nodes:
        assert hn.read("/etc/rancher/k3s/registries.yaml") == export(stack.cluster)
        st = hn.stat("/etc/rancher/k3s/registries.yaml")
        assert (st.mode & 0o777, st.uid, st.gid) == (0o600, 0, 0)
        assert hn.stat("/etc/rancher/k3s").mode & 0o777 == 0o755
    assert [r.unit for r in h.nodes[0].restarts()] == ["k3s"]
    assert [r.unit for r in h.nodes[1].restarts()] == ["k3s-agent"]
    assert res["node1"].restarted and res["node1"].sha256_after == job.sha256
    assert res["node1"].sha256_before == ""


def test_a_second_push_is_unchanged_and_restarts_nothing(stack, nodes):
    h = nodes(2)
    stack.add(h)
    stack.push()
    job = stack.push()
    assert {r.status for r in job.results.all()} == {"unchanged"}
    assert not any(r.restarted for r in job.results.all())
    assert all(len(hn.restarts()) == 1 for hn in h.nodes)


def test_a_change_restarts_only_the_nodes_that_changed(stack, nodes):
    from regui.registries.importing import registries_import

    h = nodes(3)
    added = stack.add(h)
    stack.push()
    registries_import(cluster=stack.cluster, text="mirrors:\n  quay.io:\n    endpoint: [https://q.example.com]\n",
                      replace=False)
    stack.push(nodes=[added[0]])
    job = stack.push()
    res = stack.results(job)
    assert (res["node1"].status, res["node2"].status, res["node3"].status) == ("unchanged", "changed", "changed")
    assert [len(hn.restarts()) for hn in h.nodes] == [2, 2, 2]
    assert not res["node1"].restarted and res["node2"].restarted
    assert b"quay.io" in h.nodes[2].read("/etc/rancher/k3s/registries.yaml")
    # Each push leaves a 0600 copy of what it wrote: the first one's backs up what the second replaced.
    folder = "/etc/rancher/k3s"
    backups = sorted(f"{folder}/{f}" for f in h.nodes[1].listdir(folder) if ".regui-backup-" in f)
    assert len(backups) == 2 and all(h.nodes[1].stat(b).mode & 0o777 == 0o600 for b in backups)
    assert h.nodes[1].read(backups[1]) == h.nodes[1].read("/etc/rancher/k3s/registries.yaml")
    assert b"quay.io" not in h.nodes[1].read(backups[0])


def test_write_only_writes_and_a_later_push_applies_it(stack, nodes):
    h = nodes(1)
    stack.add(h)
    job = stack.push(restart=False)
    r = job.results.get()
    assert r.status == "changed" and not r.restarted and "not restarted" in r.message
    assert h.nodes[0].restarts() == []
    again = stack.push().results.get()
    assert again.status == "unchanged" and again.restarted, "the pending restart is applied"
    assert len(h.nodes[0].restarts()) == 1


def test_tls_material_lands_with_0600_on_each_node_and_not_on_the_host(stack, nodes):
    from regui.registries.models import RegistryConfig
    from regui.registries.services import SecretInput, secret_save
    from tests.certs import key_and_cert

    key, cert = key_and_cert("mirror.example.com")
    tls = secret_save(data=SecretInput(name="client", kind="tls", certificate=cert, private_key=key,
                                       cluster=stack.cluster))
    RegistryConfig.objects.filter(cluster=stack.cluster).update(tls_secret=tls, ca_bundle=cert)
    h = nodes(2)
    first, second = stack.add(h)
    base = "/var/lib/rancher/k3s/etc/tls/registries/mirror.example.com:5000"
    # One node at a time: what node2 holds can only come from node2's own push.
    assert stack.push(nodes=[first]).results.get().status == "changed"
    assert h.nodes[0].listdir(base) == ["ca.crt", "tls.crt", "tls.key"] and h.nodes[1].listdir(base) == []
    assert stack.push(nodes=[second]).results.get().status == "changed"
    for hn in h.nodes:
        assert hn.read(f"{base}/tls.key") == key.encode() and hn.read(f"{base}/tls.crt") == cert.encode()
        assert hn.read(f"{base}/ca.crt").strip() == cert.strip().encode()
        for name in ("tls.key", "tls.crt", "ca.crt"):
            assert hn.stat(f"{base}/{name}").mode & 0o777 == 0o600
        assert b"key_file: " + base.encode() + b"/tls.key" in hn.read("/etc/rancher/k3s/registries.yaml")
    assert not Path(base).exists(), "a node wrote into the host's /var/lib"



@pytest.mark.slow
def test_tls_material_pasted_with_crlf_reaches_the_node_with_lf_only(stack, nodes, client):
    from regui.registries.models import Secret
    from tests.certs import key_and_cert

    key, cert = key_and_cert("mirror.example.com")
    client.force_login(stack.user)
    # As a browser sends the forms' textareas: CRLF line endings.
    r = client.post("/secrets/new/?kind=tls", {"cluster": stack.cluster.name, "name": "client",
                                                "certificate": cert.replace("\n", "\r\n"),
                                                "private_key": key.replace("\n", "\r\n")})
    assert r.status_code == 302
    stack.cluster.refresh_from_db()  # the import in the fixture made a revision
    r = post_registries(client, stack.cluster, {
        "revision": str(stack.cluster.revision), "_action": "save", "config": ["c1"],
        "c1-hostname": "mirror.example.com:5000", "c1-auth": "none",
        "c1-tls_secret": str(Secret.objects.get(name="client").pk), "c1-ca_bundle": cert.replace("\n", "\r\n")})
    assert r.status_code == 302, r.content.decode()[-2000:]
    h = nodes(1)
    stack.add(h)
    assert stack.push().results.get().status == "changed"
    base, hn = "/var/lib/rancher/k3s/etc/tls/registries/mirror.example.com:5000", h.nodes[0]
    assert (hn.read(f"{base}/tls.crt"), hn.read(f"{base}/tls.key")) == (cert.encode(), key.encode())
    assert hn.read(f"{base}/ca.crt") == cert.encode()

def test_rke2_nodes_get_the_rke2_path_and_services(stack, nodes):
    stack.cluster.distro = "rke2"
    stack.cluster.save()
    h = nodes(2)
    stack.add(h, roles=["server", "agent"])
    stack.push()
    assert h.nodes[0].read("/etc/rancher/rke2/registries.yaml") == export(stack.cluster)
    assert [r.unit for r in h.nodes[0].restarts()] == ["rke2-server"]
    assert [r.unit for r in h.nodes[1].restarts()] == ["rke2-agent"]
