"""A registry secret goes only to the hosts it is used for: containerd sends a config's credentials and
TLS client key to the host[:port] that config is keyed by (and a `*` config's TLS to every registry
without its own). An operator may not point an existing secret at a host of their choosing, whatever
the path: renaming the config's host on the page, a second config, an import, a restore."""

from __future__ import annotations

import pytest

from regui.k3s import generate_hosts
from regui.probes.plan import make_plan
from regui.registries.models import Cluster, RegistryConfig, Secret
from regui.registries.services import SecretInput, secret_save
from tests.certs import key_and_cert
from tests.fakes.fleet import register
from tests.pages import post_registries
from tests.registries.conftest import CORP, PW  # the `corp` fixture's

pytestmark = pytest.mark.django_db


def configs_form(cluster, *configs: tuple[str, str, str]) -> dict:
    data: dict = {"revision": str(Cluster.objects.get(pk=cluster.pk).revision), "config": []}
    for i, (host, field, value) in enumerate(configs):
        token = f"c{i}"
        data["config"].append(token)
        data.update({f"{token}-hostname": host, f"{token}-auth": "none", f"{token}-{field}": value})
    return data


@pytest.mark.parametrize("configs", [
    [("evil.example.net", "auth", "{id}")],  # the config's host renamed
    [(CORP, "auth", "{id}"), ("evil.example.net", "auth", "{id}")],  # a second config
    [(CORP, "auth", "{id}"), ("Registry.Corp.Example.com", "auth", "{id}")],  # another spelling: a string to containerd
], ids=["renamed", "second-config", "other-spelling"])
def test_an_operator_cannot_send_a_password_they_did_not_type_to_a_new_host(operator_client, cluster, corp, configs):
    data = configs_form(cluster, *[(h, f, v.format(id=corp.pk)) for h, f, v in configs])
    r = post_registries(operator_client, cluster, data)
    assert r.status_code == 400, r.status_code
    assert "Only an admin can send secret “corp-robot” to a host it is not used for" in r.content.decode()
    assert list(RegistryConfig.objects.filter(cluster=cluster).values_list("hostname", flat=True)) == [CORP]


def saved_hosts(cluster) -> list[str]:
    return list(RegistryConfig.objects.filter(cluster=cluster).values_list("hostname", flat=True))


def test_an_operator_cannot_send_a_tls_key_to_every_registry_through_the_wildcard_config(operator_client, cluster):
    key, cert = key_and_cert(CORP)
    tls = secret_save(data=SecretInput(name="corp-client", kind="tls", certificate=cert, private_key=key,
                                       cluster=cluster))
    RegistryConfig.objects.create(cluster=cluster, hostname=CORP, tls_secret=tls)
    r = post_registries(operator_client, cluster, configs_form(cluster, (CORP, "tls_secret", str(tls.pk)),
                                                               ("*", "tls_secret", str(tls.pk))))
    assert r.status_code == 400
    assert "Only an admin can send secret “corp-client” to a host it is not used for (*)" in r.content.decode()
    assert saved_hosts(cluster) == [CORP]


@pytest.mark.parametrize("path", [
    f"/var/lib/rancher/k3s/etc/tls/registries/{CORP}/tls.key",
    f"/var/lib/rancher/k3s/etc/tls/registries/evil.example.net/../{CORP}/tls.key",
    f"//var/lib/rancher/k3s/etc/tls/registries//{CORP}/./tls.key",
    f"/var/lib/rancher/rke2/etc/tls/registries/{CORP}/tls.key",
])
def test_an_operator_cannot_point_another_config_at_the_tls_key_regui_writes_for_a_registry(operator_client,
                                                                                           cluster, corp, path):
    data = configs_form(cluster, (CORP, "auth", str(corp.pk)), ("evil.example.net", "key_file", path))
    data["c1-cert_file"] = f"/var/lib/rancher/k3s/etc/tls/registries/{CORP}/tls.crt"
    r = post_registries(operator_client, cluster, data)
    assert r.status_code == 400
    assert f"Only an admin can send the TLS key regui writes for {CORP} to evil.example.net" in r.content.decode()
    assert saved_hosts(cluster) == [CORP]


def test_a_config_keeps_its_own_tls_paths(operator_client, cluster, corp):
    # What an import of a file regui pushed brings back: the config's own directory. (A path outside
    # regui's folder: test_node_key_paths.py.)
    own = f"/var/lib/rancher/k3s/etc/tls/registries/{CORP}/tls.key"
    data = configs_form(cluster, (CORP, "key_file", own))
    data["c0-auth"] = str(corp.pk)
    r = post_registries(operator_client, cluster, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert saved_hosts(cluster) == [CORP]


def test_an_operator_sends_a_secret_they_typed_to_any_host(operator_client, cluster):
    r = operator_client.post("/secrets/new/?kind=basic", {"cluster": cluster.name, "name": "mine", "username": "u",
                                                          "password": "typed-by-olivia"})
    assert r.status_code == 302
    mine = Secret.objects.get(name="mine")
    r = post_registries(operator_client, cluster, configs_form(cluster, ("new.example.net", "auth", str(mine.pk))))
    assert r.status_code == 302 and saved_hosts(cluster) == ["new.example.net"]


def test_retyping_part_of_a_secret_does_not_let_an_operator_send_the_rest_elsewhere(operator_client, cluster):
    token = secret_save(data=SecretInput(name="corp-token", kind="rke_auth", username="robot", password="p1",
                                         identity_token="Identity-Token-Nobody-Else-Knows", cluster=cluster))
    RegistryConfig.objects.create(cluster=cluster, hostname=CORP, auth_secret=token)
    r = operator_client.post("/secrets/corp-token/", {"name": "corp-token", "username": "robot", "password": "p2"})
    assert r.status_code == 302
    r = post_registries(operator_client, cluster, configs_form(cluster, ("evil.example.net", "auth", str(token.pk))))
    assert r.status_code == 400 and "Only an admin can send secret “corp-token”" in r.content.decode()
    # Retyped whole, it holds only what she typed: hers to send.
    operator_client.post("/secrets/corp-token/", {"name": "corp-token", "username": "robot", "password": "p3",
                                                  "identity_token": "hers"})
    r = post_registries(operator_client, cluster, configs_form(cluster, ("evil.example.net", "auth", str(token.pk))))
    assert r.status_code == 302 and saved_hosts(cluster) == ["evil.example.net"]


def test_a_secret_goes_on_to_the_hosts_it_serves_in_any_cluster_it_is_shared_with(operator_client, cluster, corp):
    other = Cluster.objects.create(name="other")
    corp.shared_with.add(other)
    r = post_registries(operator_client, other, configs_form(other, (CORP, "auth", str(corp.pk))))
    assert r.status_code == 302 and saved_hosts(other) == [CORP]


def test_an_admin_sends_a_secret_to_a_new_host(admin_client, cluster, corp):
    r = post_registries(admin_client, cluster, configs_form(cluster, ("new.example.net", "auth", str(corp.pk))))
    assert r.status_code == 302 and saved_hosts(cluster) == ["new.example.net"]


def test_an_operator_cannot_restore_a_revision_that_sent_a_secret_to_a_host_it_left(admin_client, operator_client,
                                                                                  cluster, corp):
    post_registries(admin_client, cluster, configs_form(cluster, ("old.example.net", "auth", str(corp.pk))))
    post_registries(admin_client, cluster, configs_form(cluster, (CORP, "auth", str(corp.pk))))
    r = operator_client.post(f"/clusters/{cluster.name}/revisions/1/restore/", follow=True)
    assert r.status_code == 200
    assert "Revision 1 cannot be restored by you: Only an admin can send secret “corp-robot” to a host it is not " \
           "used for (old.example.net)" in r.content.decode()
    assert saved_hosts(cluster) == [CORP] and Cluster.objects.get(pk=cluster.pk).revision == 2


def test_an_import_cannot_point_a_config_at_the_tls_key_regui_writes_for_another(operator_client, cluster, corp):
    text = (f'configs:\n  "evil.example.net":\n    tls:\n      key_file: "/var/lib/rancher/k3s/etc/tls/registries/'
            f'{CORP}/tls.key"\n')
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": text})
    assert r.status_code == 400  # at the preview, which offers no Import
    body = r.content.decode()
    assert "Only an admin can import this file: the registries it would save send secrets where they may not go." \
        in body and 'id="import-confirm"' not in body
    assert f"Only an admin can send the TLS key regui writes for {CORP} to evil.example.net" in body
    assert saved_hosts(cluster) == [CORP]


@pytest.mark.parametrize("endpoint", [
    "https://evil.example.net", f"https://{CORP}@evil.example.net", f"https://{CORP}:443@evil.example.net",
    f"https://{CORP}%2f@evil.example.net", f"https://evil.example.net/{CORP}", f"https://{CORP.upper()}",
    f"https://{CORP}.", f"https://{CORP}:443", "https://[::1]:5000",
])
def test_a_mirror_endpoint_on_another_host_never_gets_the_registrys_credentials(endpoint):
    # Mirrors are an operator's to edit: their endpoints get only the credentials keyed by their own
    # host[:port] as written (K3s's configForHost), so a registry test, like containerd, sends CORP's
    # password to CORP alone, however the URL is spelled.
    yaml = (f'mirrors:\n  {CORP}:\n    endpoint: ["{endpoint}"]\n'
            f'configs:\n  "{CORP}":\n    auth: {{username: robot, password: pw}}\n')
    plan = make_plan(generate_hosts(yaml, program="k3s"), CORP)
    assert plan.error == "" and len(plan.endpoints) == 2
    mirror, server = plan.endpoints
    assert mirror.auth_key is None, mirror.roots
    assert (server.roots, server.auth_key) == ((f"https://{CORP}/v2",), CORP)


def import_from_node(fake_ssh, client, cluster, text: str):
    """Import the file `text` from a node of `cluster`, replacing its registries, as the node's page does."""
    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", text.encode())
    url = f"/clusters/{cluster.name}/nodes/{register(cluster, fake).pk}/import/"
    client.post(url)
    return client.post(url, {"confirm": "1", "replace": "on"}, follow=True)


def test_a_password_read_from_a_nodes_file_is_not_the_operators_to_send_elsewhere(fake_ssh, operator_client,
                                                                                  cluster, corp):
    # The node's file holds the password an admin typed (regui pushed it): an operator who imports it
    # gets a secret of its values for its registry, and still may not send them to a host of their choosing.
    r = import_from_node(fake_ssh, operator_client, cluster,
                         f'configs:\n  "{CORP}":\n    auth:\n      username: robot\n      password: "{PW}"\n')
    assert r.status_code == 200 and "Nothing was imported" not in r.content.decode()
    made = RegistryConfig.objects.get(cluster=cluster).auth_secret
    assert made != corp and made.unseal() == {"password": PW}
    r = post_registries(operator_client, cluster, configs_form(cluster, (CORP, "auth", str(made.pk)),
                                                               ("evil.example.net", "auth", str(made.pk))))
    assert r.status_code == 400
    assert f"Only an admin can send secret “{made.name}” to a host it is not used for" in r.content.decode()
    assert saved_hosts(cluster) == [CORP]


@pytest.mark.parametrize("host", [f"evil.example.net/../{CORP}", f"evil.example.net/x/../../{CORP}",
                                  f"https://evil.example.net/../{CORP}"])
def test_a_registry_name_with_a_path_does_not_own_the_folder_it_leads_to(operator_client, cluster, corp, host):
    # K3s reads such a name as the host before the path (evil.example.net gets the key), while the name
    # joined to regui's TLS folder leads to the folder of the registry after it.
    text = (f'configs:\n  "{host}":\n    tls:\n      key_file: "/var/lib/rancher/k3s/etc/tls/registries/'
            f'{CORP}/tls.key"\n')
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": text})
    assert r.status_code == 400  # at the preview
    assert f"Only an admin can send the TLS key regui writes for {CORP} to {host}" in r.content.decode()
    assert saved_hosts(cluster) == [CORP]


@pytest.mark.parametrize(("tls", "why"), [
    ("", "to a host it is not used for (old.example.net)"),
    ("    tls:\n      insecure_skip_verify: true\n", f"Only an admin can turn off certificate checks for {CORP}"),
], ids=["host", "transport"])
def test_a_node_left_behind_does_not_bring_a_password_back_where_it_no_longer_goes(fake_ssh, admin_client,
                                                                                    operator_client, cluster, corp,
                                                                                    tls, why):
    # A node that missed the last pushes still has the file of an older revision: imported, its password
    # would go where an admin took it away from (a restore of that revision is refused the same).
    post_registries(admin_client, cluster, configs_form(cluster, ("old.example.net", "auth", str(corp.pk))))
    post_registries(admin_client, cluster, configs_form(cluster, (CORP, "auth", str(corp.pk))))
    host = "old.example.net" if not tls else CORP
    r = import_from_node(fake_ssh, operator_client, cluster,
                         f'configs:\n  "{host}":\n    auth:\n      username: robot\n      password: "{PW}"\n{tls}')
    body = r.content.decode()
    assert "Nothing was imported" in body and why in body, body
    assert saved_hosts(cluster) == [CORP] and RegistryConfig.objects.get().auth_secret == corp


def test_an_operator_imports_a_nodes_file_in_step_with_the_registries_ca_bundle_included(fake_ssh, operator_client,
                                                                                         cluster, corp):
    # The node's password stands in for the registry's secret: it goes where that one goes, as safely
    # (the CA file on the nodes is the bundle regui wrote there). A host these registries never sent a
    # credential to has the node's own (tests/inventory/test_node_connections.py).
    _, ca = key_and_cert("ca.example")
    RegistryConfig.objects.filter(hostname=CORP).update(ca_bundle=ca)
    r = import_from_node(fake_ssh, operator_client, cluster,
                         f'configs:\n  "{CORP}":\n    auth:\n      username: robot\n      password: "{PW}"\n'
                         f'    tls:\n      ca_file: /var/lib/rancher/k3s/etc/tls/registries/{CORP}/ca.crt\n')
    assert "Nothing was imported" not in r.content.decode()
    made = RegistryConfig.objects.get(cluster=cluster).auth_secret
    assert made != corp and made.unseal() == {"password": PW} and made.typed_by == ""
