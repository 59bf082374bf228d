"""A registry secret is not sent over a weaker transport than it has: containerd gives a config's
credentials to every host it contacts at that config's host[:port] (the registry's own server, any
mirror's endpoint there, a `*` config's server for registries without a directory of their own), with
that host's TLS settings. Below admin, a save may not let an interceptor read a secret the user did not
type: no skip-verify, no new CA (containerd adds it to the system's), no plain-HTTP endpoint there;
whichever way it is saved (the page, an import, a restore)."""

from __future__ import annotations

import html

import pytest

from regui.registries.models import Cluster, Mirror, RegistryConfig, Secret
from regui.registries.services import SecretInput, secret_save
from tests.certs import key_and_cert
from tests.pages import confirm_import, post_registries
from tests.registries.conftest import CORP

pytestmark = pytest.mark.django_db

CA_CORP = key_and_cert("Corp Root CA")[1]
CA_EVIL = key_and_cert("Interception CA")[1]
ASK = "Ask an admin, or retype this registry's credentials"


@pytest.fixture
def corp(corp):
    """CORP's config (conftest's), with a password an admin typed, and CORP's own CA."""
    RegistryConfig.objects.filter(hostname=CORP).update(ca_bundle=CA_CORP)
    return corp


def page(cluster, configs: list[dict], mirrors: tuple[tuple[str, list[str]], ...] = ()) -> dict:
    """The Registries form: each config a dict of its fields (auth: a secret id or "none")."""
    data: dict = {"revision": str(Cluster.objects.get(pk=cluster.pk).revision), "config": [], "mirror": []}
    for i, fields in enumerate(configs):
        data["config"].append(f"c{i}")
        data.update({f"c{i}-auth": "none", **{f"c{i}-{k}": v for k, v in fields.items()}})
    for i, (host, endpoints) in enumerate(mirrors):
        data["mirror"].append(f"m{i}")
        data[f"m{i}-hostname"] = host
        data[f"m{i}-endpoint"] = [f"m{i}e{j}" for j in range(len(endpoints))]
        data.update({f"m{i}e{j}-url": url for j, url in enumerate(endpoints)})
    return data


def corp_box(secret: Secret, **fields: str) -> dict:
    return {"hostname": CORP, "auth": str(secret.pk), "ca_bundle": CA_CORP, **fields}


def refused(response, *words: str, ask: str = ASK) -> str:
    body = html.unescape(response.content.decode())
    assert response.status_code == 400, (response.status_code, body[:1500])
    for w in (*words, ask):
        assert w in body, (w, body[:3000])
    return body


def saved(response) -> None:
    assert response.status_code == 302, response.content.decode()[:3000]


def corp_config() -> RegistryConfig:
    return RegistryConfig.objects.get(hostname=CORP)


# -- what an operator may not do to a secret an admin typed ----------------------------------------------
def test_an_operator_cannot_turn_off_certificate_checks_where_a_password_goes(operator_client, cluster, corp):
    r = post_registries(operator_client, cluster, page(cluster, [corp_box(corp, insecure_skip_verify="on")]))
    refused(r, f"Only an admin can turn off certificate checks for {CORP} while it receives secret “corp-robot”")
    assert corp_config().insecure_skip_verify is False


@pytest.mark.parametrize("ca", [{"ca_bundle": CA_EVIL}, {"ca_bundle": "", "ca_file": "/etc/ssl/evil-ca.pem"}],
                         ids=["another-bundle", "a-node-side-file"])
def test_an_operator_cannot_make_a_registry_trust_another_ca(operator_client, cluster, corp, ca):
    r = post_registries(operator_client, cluster, page(cluster, [corp_box(corp, **ca)]))
    refused(r, f"Only an admin can make {CORP} trust another CA while it receives secret “corp-robot”")
    assert corp_config().ca_bundle == CA_CORP


def test_a_ca_added_where_there_was_none_is_another_ca_to_trust(operator_client, cluster, corp):
    # containerd adds a config's CA to the system's: the interceptor's CA would be trusted too.
    RegistryConfig.objects.filter(hostname=CORP).update(ca_bundle="")
    r = post_registries(operator_client, cluster, page(cluster, [corp_box(corp, ca_bundle=CA_EVIL)]))
    refused(r, f"Only an admin can make {CORP} trust another CA")
    assert corp_config().ca_bundle == ""


@pytest.mark.parametrize("mirror,endpoint", [
    (CORP, f"http://{CORP}"),  # the registry's own mirror
    ("docker.io", f"http://{CORP}"),  # another registry's mirror at CORP's address
    ("*", f"http://{CORP}"),  # every registry without its own directory
    (CORP, f"HTTP://{CORP}/v2"),  # scheme in capitals, API root spelled out
    (CORP, f"http://{CORP}/v2/"),  # a path K3s keeps with override_path: still CORP
    (CORP, f"http://{CORP}/some/path"),  # a custom path: still CORP
], ids=["own-mirror", "other-mirror", "wildcard-mirror", "capitals", "v2-slash", "path"])
def test_an_operator_cannot_add_a_plain_http_endpoint_that_gets_the_password(operator_client, cluster, corp,
                                                                             mirror, endpoint):
    r = post_registries(operator_client, cluster, page(cluster, [corp_box(corp)], ((mirror, [endpoint]),)))
    refused(r, f"Only an admin can send secret “corp-robot” to {CORP} over plain HTTP")
    assert not Mirror.objects.exists()


def test_an_operator_cannot_weaken_docker_hub_credentials_through_the_wildcard_config(operator_client, cluster):
    # Credentials keyed registry-1.docker.io, with no docker.io directory: a docker.io pull reads
    # certs.d/_default, where the `*` config's TLS applies to registry-1.docker.io.
    hub = secret_save(data=SecretInput(name="hub", kind="basic", username="u", password="p", cluster=cluster))
    RegistryConfig.objects.create(cluster=cluster, hostname="registry-1.docker.io", auth_secret=hub)
    hub_box = {"hostname": "registry-1.docker.io", "auth": str(hub.pk)}
    r = post_registries(operator_client, cluster, page(cluster, [hub_box, {"hostname": "*",
                                                                          "insecure_skip_verify": "on"}]))
    refused(r, "Only an admin can turn off certificate checks for registry-1.docker.io while it receives secret "
               "“hub”")
    r = post_registries(operator_client, cluster, page(cluster, [hub_box, {"hostname": "*", "ca_bundle": CA_EVIL}]))
    refused(r, "Only an admin can make registry-1.docker.io trust another CA")
    assert list(RegistryConfig.objects.values_list("hostname", flat=True)) == ["registry-1.docker.io"]


def test_an_operator_cannot_weaken_the_host_of_a_tls_client_key(operator_client, cluster):
    key, cert = key_and_cert(CORP)
    tls = secret_save(data=SecretInput(name="corp-client", kind="tls", certificate=cert, private_key=key,
                                       cluster=cluster))
    RegistryConfig.objects.create(cluster=cluster, hostname=CORP, tls_secret=tls)
    box = {"hostname": CORP, "tls_secret": str(tls.pk), "insecure_skip_verify": "on"}
    r = post_registries(operator_client, cluster, page(cluster, [box]))
    refused(r, f"Only an admin can turn off certificate checks for {CORP} while it receives secret “corp-client”")


@pytest.mark.parametrize("endpoint", [f"http://{CORP}", f"http://{CORP}/v2?ns=docker.io"],
                         ids=["http", "query"])  # an import keeps a query the page refuses: K3s drops it
def test_an_import_cannot_add_a_plain_http_endpoint_for_a_kept_password(operator_client, cluster, corp, endpoint):
    text = f'mirrors:\n  docker.io:\n    endpoint: ["{endpoint}"]\n'
    preview = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": text})
    r = confirm_import(operator_client, cluster.name, preview)
    body = refused(r, "Nothing was imported", f"Only an admin can send secret “corp-robot” to {CORP} over plain HTTP")
    assert "Traceback" not in body and not Mirror.objects.exists()


def test_an_operator_cannot_restore_a_revision_without_certificate_checks(admin_client, operator_client, cluster,
                                                                          corp):
    saved(post_registries(admin_client, cluster, page(cluster, [corp_box(corp, insecure_skip_verify="on")])))
    saved(post_registries(admin_client, cluster, page(cluster, [corp_box(corp)])))
    r = operator_client.post(f"/clusters/{cluster.name}/revisions/1/restore/", follow=True)
    assert r.status_code == 200
    assert (f"Revision 1 cannot be restored by you: Only an admin can turn off certificate checks for {CORP}"
            in r.content.decode())
    assert corp_config().insecure_skip_verify is False and Cluster.objects.get(pk=cluster.pk).revision == 2


# -- what stays allowed --------------------------------------------------------------------------------
def test_an_admin_may_weaken_the_transport(admin_client, cluster, corp):
    saved(post_registries(admin_client, cluster, page(cluster, [corp_box(corp, insecure_skip_verify="on")],
                                                      ((CORP, [f"http://{CORP}"]),))))
    assert corp_config().insecure_skip_verify is True


def test_the_user_who_typed_the_password_may_weaken_its_transport(operator_client, cluster):
    r = operator_client.post("/secrets/new/?kind=basic", {"cluster": cluster.name, "name": "mine", "username": "u",
                                                          "password": "typed-by-olivia"})
    assert r.status_code == 302
    mine = Secret.objects.get(name="mine")
    RegistryConfig.objects.create(cluster=cluster, hostname=CORP, auth_secret=mine)
    saved(post_registries(operator_client, cluster, page(cluster, [corp_box(mine, insecure_skip_verify="on")],
                                                         ((CORP, [f"http://{CORP}"]),))))


def test_an_operator_may_strengthen_or_keep_the_transport(admin_client, operator_client, cluster, corp):
    saved(post_registries(admin_client, cluster, page(cluster, [corp_box(corp, insecure_skip_verify="on")],
                                                      (("docker.io", [f"http://{CORP}"]),))))
    # Kept as an admin left it, with an unrelated change: nothing is weaker than it was.
    saved(post_registries(operator_client, cluster, page(cluster, [corp_box(corp, insecure_skip_verify="on")],
                                                         (("docker.io", [f"http://{CORP}", "https://m.example"]),))))
    # Certificate checks back on, the http endpoint gone, the CA removed (the system's CAs remain, fewer).
    saved(post_registries(operator_client, cluster, page(cluster, [corp_box(corp, ca_bundle="")],
                                                         (("docker.io", ["https://m.example"]),))))
    config = corp_config()
    assert (config.insecure_skip_verify, config.ca_bundle) == (False, "")


@pytest.mark.parametrize("endpoint", [f"https://{CORP}", f"http://{CORP}:80", "http://mirror.example.net"],
                         ids=["https", "another-port", "another-host"])
def test_an_operator_may_add_endpoints_that_get_no_credentials_in_the_clear(operator_client, cluster, corp,
                                                                            endpoint):
    # containerd looks credentials up by the host[:port] it contacts: CORP:80 is not CORP.
    saved(post_registries(operator_client, cluster, page(cluster, [corp_box(corp)], (("docker.io", [endpoint]),))))
    assert Mirror.objects.get().endpoints == [endpoint]


def test_a_shared_secret_new_to_a_cluster_keeps_only_the_cas_it_has_elsewhere(operator_client, cluster, corp):
    # Skip-verify where another cluster's nodes reach CORP says nothing of this cluster's network path.
    RegistryConfig.objects.filter(hostname=CORP).update(insecure_skip_verify=True)
    other = Cluster.objects.create(name="other")
    corp.shared_with.add(other)
    r = post_registries(operator_client, other, page(other, [corp_box(corp, insecure_skip_verify="on")]))
    refused(r, f"Only an admin can turn off certificate checks for {CORP} while it receives secret “corp-robot”")
    # CORP's own CA, as the first cluster has it, is no new party; another CA is.
    r = post_registries(operator_client, other, page(other, [corp_box(corp, ca_bundle=CA_EVIL)]))
    refused(r, f"Only an admin can make {CORP} trust another CA")
    saved(post_registries(operator_client, other, page(other, [corp_box(corp)])))


# -- a client key an admin gave a host on the nodes ----------------------------------------------------
# It is not sent, but the nodes authenticate with it to whoever answers as the host: below admin, its host's
# transport may not get weaker either (the key_file path, or the certificate's when there is no key file).
NODE_CERT, NODE_KEY = "/etc/rancher/k3s/tls/corp/client.crt", "/etc/rancher/k3s/tls/corp/client.key"
KEY_ASK = "Ask an admin, or choose a TLS Secret instead"


@pytest.fixture
def corp_pair(cluster):
    """CORP's config as an admin saved it: a client pair on the nodes, and CORP's own CA."""
    return RegistryConfig.objects.create(cluster=cluster, hostname=CORP, cert_file=NODE_CERT, key_file=NODE_KEY,
                                         ca_bundle=CA_CORP)


def pair_box(**fields: str) -> dict:
    return {"hostname": CORP, "cert_file": NODE_CERT, "key_file": NODE_KEY, "ca_bundle": CA_CORP, **fields}


@pytest.mark.parametrize("fields,mirrors,words", [
    ({"insecure_skip_verify": "on"}, (),
     f"Only an admin can turn off certificate checks for {CORP} while the nodes present it the client key {NODE_KEY}"),
    ({"ca_bundle": CA_EVIL}, (), f"Only an admin can make {CORP} trust another CA while the nodes present it the "
                                 f"client key {NODE_KEY}"),
    ({"ca_bundle": "", "ca_file": "/etc/ssl/evil-ca.pem"}, (),
     f"Only an admin can make {CORP} trust another CA while the nodes present it the client key {NODE_KEY}"),
    ({}, (("docker.io", [f"http://{CORP}"]),),
     f"Only an admin can let the nodes reach {CORP} over plain HTTP while they present it the client key {NODE_KEY}"),
    ({"key_file": "", "insecure_skip_verify": "on"}, (),  # containerd reads the key from the certificate's file
     f"Only an admin can turn off certificate checks for {CORP} while the nodes present it the client key "
     f"{NODE_CERT}"),
], ids=["skip-verify", "another-bundle", "a-node-side-ca", "http-endpoint", "key-in-the-certificate"])
def test_an_operator_cannot_weaken_the_transport_to_a_host_given_a_client_key_on_the_nodes(
        operator_client, cluster, corp_pair, fields, mirrors, words):
    r = post_registries(operator_client, cluster, page(cluster, [pair_box(**fields)], mirrors))
    refused(r, words, ask=KEY_ASK)
    config = corp_config()
    assert (config.insecure_skip_verify, config.ca_bundle, config.ca_file) == (False, CA_CORP, "")
    assert not Mirror.objects.exists()


def test_an_import_cannot_turn_off_certificate_checks_for_a_host_given_a_client_key_on_the_nodes(
        operator_client, cluster, corp_pair):
    text = (f'configs:\n  "{CORP}":\n    tls:\n      cert_file: {NODE_CERT}\n      key_file: {NODE_KEY}\n'
            "      insecure_skip_verify: true\n")
    preview = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": text, "replace": "on"})
    r = confirm_import(operator_client, cluster.name, preview)
    body = refused(r, "Nothing was imported", f"Only an admin can turn off certificate checks for {CORP}",
                   ask=KEY_ASK)
    assert "Traceback" not in body and corp_config().insecure_skip_verify is False


def test_an_admin_may_weaken_the_transport_of_a_client_key_on_the_nodes(admin_client, cluster, corp_pair):
    saved(post_registries(admin_client, cluster, page(cluster, [pair_box(insecure_skip_verify="on",
                                                                         ca_bundle=CA_EVIL)],
                                                      (("docker.io", [f"http://{CORP}"]),))))
    assert corp_config().insecure_skip_verify is True and Mirror.objects.get().endpoints == [f"http://{CORP}"]


def test_an_operator_keeps_what_an_admin_set_for_a_client_key_on_the_nodes(admin_client, operator_client, cluster,
                                                                           corp_pair):
    weak = pair_box(insecure_skip_verify="on", ca_bundle=CA_EVIL)
    saved(post_registries(admin_client, cluster, page(cluster, [weak], (("docker.io", [f"http://{CORP}"]),))))
    saved(post_registries(operator_client, cluster, page(cluster, [weak], (("docker.io", [f"http://{CORP}",
                                                                                           "https://m.example"]),))))
    # And may make it stronger again.
    saved(post_registries(operator_client, cluster, page(cluster, [pair_box(ca_bundle="")])))
    config = corp_config()
    assert (config.insecure_skip_verify, config.ca_bundle) == (False, "") and not Mirror.objects.exists()


def test_a_client_key_read_from_another_of_the_hosts_saved_files_keeps_the_hosts_transport(operator_client, cluster,
                                                                                          corp_pair):
    # Without key_file containerd reads the key from the certificate's file: still CORP's pair, CORP's CA.
    saved(post_registries(operator_client, cluster, page(cluster, [pair_box(key_file="")])))
    assert corp_config().key_file == ""


@pytest.mark.parametrize("ca_file", ["/var/lib/rancher/k3s/etc/tls/registries/evil.example/ca.crt",
                                     f"/var/lib/rancher/k3s/etc/tls/registries/{CORP}/../evil.example/ca.crt"],
                         ids=["another-box-s-ca", "respelled"])
def test_an_operator_cannot_make_a_registry_trust_the_ca_regui_writes_for_another(operator_client, cluster, corp,
                                                                                  ca_file):
    # The other box's CA Cert Bundle is the operator's to choose: naming its file is trusting their CA.
    r = post_registries(operator_client, cluster, page(cluster, [corp_box(corp, ca_bundle="", ca_file=ca_file),
                                                                 {"hostname": "evil.example", "ca_bundle": CA_EVIL}]))
    refused(r, f"Only an admin can make {CORP} trust another CA while it receives secret “corp-robot”")
    assert corp_config().ca_file == ""
