"""A client key already on the nodes goes only to the hosts a saved config gives it to.

A config's `tls.key_file` (and `tls.cert_file`: containerd reads the key from the certificate's file when
no key file is given) names a file on the node that containerd presents to the config's host. Below
admin, a save may name such a path (outside the folder of regui's own TLS files) only for a host the
cluster's saved config already gives it to: otherwise an operator could hand another registry's client
key, or any key on the node, to a host of their choosing. Every way a config is saved: the page, an
import, a restore."""

from __future__ import annotations

import pytest

from regui.registries.models import Cluster, RegistryConfig
from tests.pages import confirm_import, post_registries

pytestmark = pytest.mark.django_db

GOOD = "good-registry.example:5000"
EVIL = "evil.example:5000"
KEY = "/etc/rancher/k3s/tls/good-registry/client.key"
CERT = "/etc/rancher/k3s/tls/good-registry/client.crt"


@pytest.fixture
def good(cluster):
    """The cluster's saved config that gives GOOD the client pair an admin put on the nodes."""
    return RegistryConfig.objects.create(cluster=cluster, hostname=GOOD, cert_file=CERT, key_file=KEY)


def form(cluster, *configs: dict[str, str]) -> dict:
    data: dict = {"revision": str(Cluster.objects.get(pk=cluster.pk).revision), "config": []}
    for i, fields in enumerate(configs):
        token = f"c{i}"
        data["config"].append(token)
        data.update({f"{token}-auth": "none", **{f"{token}-{k}": v for k, v in fields.items()}})
    return data


def saved(cluster) -> list[tuple[str, str, str]]:
    return list(RegistryConfig.objects.filter(cluster=cluster).values_list("hostname", "cert_file", "key_file"))


def refusal(field: str, host: str, path: str) -> str:
    return f"Only an admin can give {host} the file {path} on the nodes as its client {field}"


@pytest.mark.parametrize("fields", [
    {"key_file": KEY},
    {"key_file": "/etc/rancher/k3s/tls//good-registry/./client.key"},  # the same file, spelled otherwise
    {"cert_file": CERT, "key_file": KEY},
    {"cert_file": KEY},  # containerd reads the key from the certificate's file when key_file is empty
], ids=["key", "key-respelled", "pair", "key-as-cert"])
def test_an_operator_cannot_give_another_registrys_client_key_to_a_new_host(operator_client, cluster, good, fields):
    data = form(cluster, {"hostname": GOOD, "cert_file": CERT, "key_file": KEY}, {"hostname": EVIL, **fields})
    r = post_registries(operator_client, cluster, data)
    assert r.status_code == 400, r.status_code
    body = r.content.decode()
    for field, path in fields.items():
        assert refusal("key" if field == "key_file" else "certificate", EVIL, path) in body
    assert saved(cluster) == [(GOOD, CERT, KEY)]


def test_an_operator_cannot_name_any_file_on_the_nodes_as_a_new_hosts_client_key(operator_client, cluster):
    r = post_registries(operator_client, cluster, form(cluster, {"hostname": EVIL, "key_file": "/etc/ssh/ssh_host_ed25519_key"}))
    assert r.status_code == 400
    assert refusal("key", EVIL, "/etc/ssh/ssh_host_ed25519_key") in r.content.decode()
    assert saved(cluster) == []


def test_renaming_a_configs_host_does_not_take_its_client_key_along(operator_client, cluster, good):
    r = post_registries(operator_client, cluster, form(cluster, {"hostname": EVIL, "cert_file": CERT, "key_file": KEY}))
    assert r.status_code == 400 and refusal("key", EVIL, KEY) in r.content.decode()
    assert saved(cluster) == [(GOOD, CERT, KEY)]


def test_an_operator_keeps_a_hosts_saved_client_pair_and_regui_s_own_folder(operator_client, cluster, good):
    own = "/var/lib/rancher/k3s/etc/tls/registries/other.example"
    data = form(cluster, {"hostname": GOOD, "cert_file": CERT, "key_file": "/etc/rancher/k3s/tls/good-registry/../good-registry/client.key"},
                {"hostname": "other.example", "cert_file": f"{own}/tls.crt", "key_file": f"{own}/tls.key"})
    r = post_registries(operator_client, cluster, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert [h for h, _, _ in saved(cluster)] == [GOOD, "other.example"]


def test_a_client_key_saved_for_a_host_in_another_cluster_is_not_this_clusters(operator_client, cluster):
    other = Cluster.objects.create(name="other")
    RegistryConfig.objects.create(cluster=other, hostname=EVIL, key_file=KEY)
    r = post_registries(operator_client, cluster, form(cluster, {"hostname": EVIL, "key_file": KEY}))
    assert r.status_code == 400 and refusal("key", EVIL, KEY) in r.content.decode()


def test_an_admin_gives_a_client_key_on_the_nodes_to_any_host(admin_client, cluster, good):
    r = post_registries(admin_client, cluster, form(cluster, {"hostname": EVIL, "cert_file": CERT, "key_file": KEY}))
    assert r.status_code == 302 and saved(cluster) == [(EVIL, CERT, KEY)]


def test_an_import_cannot_give_another_registrys_client_key_to_a_new_host(operator_client, cluster, good):
    text = f'configs:\n  "{EVIL}":\n    tls:\n      key_file: {KEY}\n'
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": text})
    assert r.status_code == 400  # at the preview, which offers no Import
    body = r.content.decode()
    assert "Only an admin can import this file" in body and 'id="import-confirm"' not in body
    assert f"configs.{EVIL} (key_file): {refusal('key', EVIL, KEY)}" in body
    assert saved(cluster) == [(GOOD, CERT, KEY)]


def test_importing_the_clusters_own_file_again_keeps_its_client_pairs(operator_client, cluster, good):
    text = f'configs:\n  "{GOOD}":\n    tls:\n      cert_file: {CERT}\n      key_file: {KEY}\n'
    preview = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": text, "replace": "on"})
    r = confirm_import(operator_client, cluster.name, preview)
    assert r.status_code == 302 and saved(cluster) == [(GOOD, CERT, KEY)]


def test_an_operator_cannot_restore_a_revision_that_gave_a_client_key_to_a_host_it_left(admin_client, operator_client,
                                                                                       cluster):
    post_registries(admin_client, cluster, form(cluster, {"hostname": EVIL, "key_file": KEY}))
    post_registries(admin_client, cluster, form(cluster, {"hostname": GOOD, "key_file": KEY}))
    r = operator_client.post(f"/clusters/{cluster.name}/revisions/1/restore/", follow=True)
    assert r.status_code == 200
    assert f"Revision 1 cannot be restored by you: {refusal('key', EVIL, KEY)}" in r.content.decode()
    assert saved(cluster) == [(GOOD, "", KEY)] and Cluster.objects.get(pk=cluster.pk).revision == 2


def test_an_operator_cannot_give_a_client_key_on_the_nodes_to_every_registry_through_the_wildcard(
        operator_client, cluster, good):
    # A `*` config's TLS goes to every registry without a directory of its own: every host is a new one.
    r = post_registries(operator_client, cluster, form(cluster, {"hostname": GOOD, "cert_file": CERT, "key_file": KEY},
                                                       {"hostname": "*", "cert_file": CERT, "key_file": KEY}))
    assert r.status_code == 400 and refusal("key", "*", KEY) in r.content.decode()
    assert saved(cluster) == [(GOOD, CERT, KEY)]
