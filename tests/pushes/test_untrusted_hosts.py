"""No role below admin can make regui deliver a secret (registry password, token, TLS key, a node's SSH
password) to a host an admin did not trust for it: the issue's two attacks, replayed by an operator
through the pages, against fake nodes in-process and once against real sshd nodes."""

from __future__ import annotations

import pytest
from django.test import Client

from regui.inventory.models import Node
from regui.pushes.models import PushJob
from regui.registries.models import Cluster, RegistryConfig, Secret
from tests.fakes.fleet import register
from tests.pages import post_registries

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "push-secret-7Q"  # prod's registry password (YAML in tests/pushes/conftest.py and tests/fakes/fleet.py)
MAIN = "/etc/rancher/k3s/registries.yaml"


def as_operator(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def latest_job(cluster: Cluster) -> PushJob:
    return PushJob.objects.filter(cluster=cluster).latest("id")


def node_form(address: str, port: int, credential: str, name: str = "n1") -> dict:
    return {"name": name, "address": address, "port": str(port), "role": "agent", "ssh_user": "root",
            "credential_kind": "password", "credential": credential}


def test_an_operators_own_cluster_and_host_get_no_other_clusters_secret(fleet):
    attacker = fleet.fake.node("attacker")
    olivia = as_operator(fleet.user)
    olivia.post("/clusters/new/", {"name": "evil", "distro": "k3s"})
    evil = Cluster.objects.get(name="evil")
    stolen = Secret.objects.get(cluster=fleet.cluster)
    r = post_registries(olivia, evil, {"revision": "0", "config": ["c1"], "c1-hostname": "mirror.example.com:5000",
                                       "c1-auth": str(stolen.pk)})
    assert r.status_code == 400 and not evil.configs.exists()
    post_registries(olivia, evil, {"revision": "0", "mirror": ["m1"], "m1-hostname": "docker.io",
                                   "m1-endpoint": ["e1"], "e1-url": "https://mirror.example.com:5000"})
    olivia.post("/clusters/evil/nodes/new/", node_form(attacker.address, attacker.port, "attacker-pw"))
    node = Node.objects.get(cluster=evil)
    olivia.post(f"/clusters/evil/nodes/{node.pk}/scan/")
    node.refresh_from_db()
    olivia.post(f"/clusters/evil/nodes/{node.pk}/approve/", {"fingerprint": node.scanned_fingerprint})
    node.refresh_from_db()
    assert not node.has_approved_key
    # A push shows its plan first, which refuses a node without an approved key; a drift check fails at
    # the trust gate.
    shown = olivia.post("/clusters/evil/push/", {"scope": "all"}, follow=True)
    assert shown.status_code == 409 and "No target node has an approved host key" in shown.content.decode()
    assert not PushJob.objects.filter(cluster=evil).exists()
    olivia.post("/clusters/evil/push/", {"scope": "drift"})
    result = latest_job(evil).results.get()
    assert result.status == "failed" and result.message.startswith("no approved host key")
    assert attacker.connects == [] and attacker.read(MAIN) is None


def test_moving_another_clusters_node_to_a_host_of_ones_own_sends_its_credential_nowhere(fleet):
    (a1,) = fleet.add("agent")
    old_credential = a1.unseal_credential()
    attacker = fleet.fake.node("attacker")
    olivia = as_operator(fleet.user)
    r = olivia.post(f"/clusters/prod/nodes/{a1.pk}/edit/", {**node_form(attacker.address, attacker.port, ""),
                                                            "name": a1.name, "credential_kind": "key"})
    assert r.status_code == 400, "the stored credential does not follow the node to a new address"
    olivia.post(f"/clusters/prod/nodes/{a1.pk}/edit/", {**node_form(attacker.address, attacker.port, "typed"),
                                                        "name": a1.name})
    a1.refresh_from_db()
    assert a1.address == attacker.address and a1.unseal_credential() == "typed" != old_credential
    olivia.post(f"/clusters/prod/nodes/{a1.pk}/scan/")
    a1.refresh_from_db()
    olivia.post(f"/clusters/prod/nodes/{a1.pk}/approve/", {"fingerprint": a1.scanned_fingerprint})
    # A drift check skips the render's checks: only the trust gate stands between it and the host.
    olivia.post("/clusters/prod/push/", {"scope": "drift"})
    result = latest_job(fleet.cluster).results.get()
    assert result.status == "failed" and "no approved host key" in result.message
    olivia.post(f"/clusters/prod/nodes/{a1.pk}/import/")
    assert attacker.connects == [] and attacker.read(MAIN) is None


def test_a_node_with_an_approved_key_but_no_credential_is_not_contacted(fleet):
    (a1,) = fleet.add("agent")
    Node.objects.filter(pk=a1.pk).update(sealed="")
    result = fleet.push().results.get()
    assert result.status == "failed" and result.message.startswith("no stored credential")
    assert fleet["a1"].connects == []


def test_a_file_naming_a_secret_the_cluster_may_not_use_is_never_pushed_nor_checked(fleet):
    # Written around every save (which refuse it): the push's render refuses it again.
    evil = Cluster.objects.create(name="evil")
    RegistryConfig.objects.create(cluster=evil, hostname="mirror.example.com:5000",
                                  auth_secret=Secret.objects.get(cluster=fleet.cluster))
    register(evil, fleet.fake.node("e1"))
    for kind in ("push", "drift"):
        from regui.pushes.services import push_job_create

        job = push_job_create(cluster=evil, user=fleet.user, kind=kind)
        job.refresh_from_db()
        assert job.status == "refused" and "belong to another cluster" in job.message, kind
        assert SECRET not in job.message
    assert fleet["e1"].connects == [] and fleet["e1"].read(MAIN) is None


class _Only:
    """A harness seen through one of its nodes, for Stack.add (the others play other hosts)."""

    def __init__(self, h, index: int) -> None:
        self.nodes, self.id, self.user = [h.nodes[index]], h.id, h.user
        self.client_private_key_pem = h.client_private_key_pem


def push_from_page(client: Client, cluster: str, scope: str) -> PushJob:
    client.post(f"/clusters/{cluster}/push/", {"scope": scope})
    return latest_job(Cluster.objects.get(name=cluster))


@pytest.mark.e2e
def test_an_operator_cannot_get_a_secret_onto_a_host_nobody_approved(stack, nodes, client):
    """Real sshd. prod's node logs in with deploy's password, which the attacker's host accepts too:
    its sshd log would show any login with it, and its disk any file pushed."""
    h = nodes(2)
    prod_host, attacker = h.nodes
    (node,) = stack.add(_Only(h, 0), user=h.sudo_user, credential=h.sudo_password, use_sudo=True)
    assert stack.push().results.get().status == "changed"
    client.force_login(stack.user)
    # Attack 1: a cluster of one's own, naming prod's secret, with a node at the attacker's address.
    client.post("/clusters/new/", {"name": "evil", "distro": "k3s"})
    evil = Cluster.objects.get(name="evil")
    stolen = Secret.objects.get(cluster=stack.cluster)
    assert post_registries(client, evil, {"revision": "0", "config": ["c1"], "c1-hostname": "mirror.example.com:5000",
                                          "c1-auth": str(stolen.pk)}).status_code == 400
    post_registries(client, evil, {"revision": "0", "mirror": ["m1"], "m1-hostname": "docker.io",
                                   "m1-endpoint": ["e1"], "e1-url": "https://mirror.example.com:5000"})
    client.post("/clusters/evil/nodes/new/", {**node_form(attacker.address, attacker.port, h.sudo_password),
                                              "ssh_user": h.sudo_user, "use_sudo": "on"})
    # Attack 2: prod's node moved to the attacker's address, hoping its stored password follows.
    client.post(f"/clusters/prod/nodes/{node.pk}/edit/", {**node_form(attacker.address, attacker.port, "guess"),
                                                          "name": node.name, "ssh_user": h.sudo_user,
                                                          "use_sudo": "on"})
    for target in (Node.objects.get(cluster=evil), Node.objects.get(pk=node.pk)):
        base = f"/clusters/{target.cluster.name}/nodes/{target.pk}"
        client.post(f"{base}/scan/")
        target.refresh_from_db()
        assert target.address == attacker.address and target.scanned_fingerprint == attacker.host_key_fingerprint
        client.post(f"{base}/approve/", {"fingerprint": target.scanned_fingerprint})
        target.refresh_from_db()
        assert not target.has_approved_key
    result = stack.wait(push_from_page(client, "prod", "drift")).results.get()
    assert result.status == "failed" and "Nothing was sent" in result.message, result.message
    for cluster in ("evil", "prod"):  # a push shows its plan first, which refuses; so does confirming it
        target = Node.objects.get(cluster__name=cluster)
        shown = client.post(f"/clusters/{cluster}/push/", {"scope": "all"}, follow=True)
        assert shown.status_code == 409 and "No target node has an approved host key" in shown.content.decode()
        revision = Cluster.objects.get(name=cluster).revision
        confirmed = client.post(f"/clusters/{cluster}/push/confirm/", {
            "confirm": "1", "revision": revision, "scope": "all", "nodes": [target.pk]})
        assert confirmed.status_code == 409 and "Nothing was queued" in confirmed.content.decode()
        assert not PushJob.objects.filter(cluster__name=cluster, kind="push").exclude(
            pk__in=stack.cluster.push_jobs.filter(kind="push").order_by("pk").values("pk")[:1]).exists()
    log = (attacker.dir / "sshd.log").read_text()
    assert "[preauth]" in log, "the scans reached this sshd, so would a login"
    assert "Accepted" not in log and "Failed password" not in log, log[-2000:]
    assert attacker.read(MAIN) is None and SECRET.encode() in (prod_host.read(MAIN) or b"")
