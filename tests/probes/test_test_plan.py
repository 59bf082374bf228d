"""What a registry test tries follows the engine: the endpoints of a pull in containerd's order, each
with the credentials and TLS K3s gives its host (regui/probes/plan.py; no database)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from regui.k3s import generate_hosts
from regui.probes.plan import credentials, make_plan, probes, registry_names, tls_material, tls_words

YAML = """
mirrors:
  docker.io:
    endpoint: ["https://mirror.example.com:5000", "http://plain.example.com:5001"]
    rewrite: {"^library/(.*)": "hub/$1"}
  "*":
    endpoint: ["https://any.example.com"]
configs:
  "mirror.example.com:5000":
    auth: {username: robot, password: pw-value-1}
    tls: {ca_file: /var/lib/rancher/k3s/etc/tls/registries/mirror.example.com:5000/ca.crt}
  "plain.example.com:5001":
    tls: {insecure_skip_verify: true}
  "registry.example.com":
    auth: {auth: "%s"}
"""


@dataclass(frozen=True)
class File:
    description: str
    data: bytes

    def content(self) -> bytes:
        return self.data


def result(yaml: str = YAML % base64.b64encode(b"bob:pw-value-2").decode(), **flags):
    return generate_hosts(yaml, program="k3s", **flags)


def test_the_registries_offered_are_the_saved_mirrors_then_configs_but_not_the_wildcard():
    assert registry_names(result()) == ["docker.io", "mirror.example.com:5000", "plain.example.com:5001",
                                        "registry.example.com"]


def test_a_mirror_is_tried_endpoint_by_endpoint_then_its_registry_as_containerd_orders_them():
    plan = make_plan(result(), "docker.io", "library/nginx:1.27")
    assert plan.error == "" and plan.image == "docker.io/library/nginx:1.27"
    assert [(e.role, e.roots) for e in plan.endpoints] == [
        ("mirror", ("https://mirror.example.com:5000/v2",)),
        ("mirror", ("https://plain.example.com:5001/v2", "http://plain.example.com:5001/v2")),
        ("server", ("https://registry-1.docker.io/v2",))]
    first = plan.endpoints[0]
    assert first.manifest == "/v2/hub/nginx/manifests/1.27?ns=docker.io", "rewritten, with containerd's ns"
    assert first.repository == "hub/nginx" and first.auth_key == "mirror.example.com:5000"
    assert plan.endpoints[2].manifest == "/v2/library/nginx/manifests/1.27"


def test_without_an_image_no_manifest_is_asked_for():
    plan = make_plan(result(), "docker.io")
    assert plan.image == "" and all(e.manifest == "" for e in plan.endpoints)


def test_one_endpoint_is_tested_by_its_api_root_and_an_unknown_one_is_refused():
    plan = make_plan(result(), "docker.io", endpoint="https://plain.example.com:5001/v2")
    assert [e.position for e in plan.endpoints] == [2]
    refused = make_plan(result(), "docker.io", endpoint="https://elsewhere.example.com/v2")
    assert "is not an endpoint a pull from docker.io tries in the saved configuration" in refused.error


def test_a_registry_without_a_hosts_dir_of_its_own_goes_through_the_wildcard_mirror():
    plan = make_plan(result(), "quay.io", "team/app:v1")
    assert [e.key for e in plan.endpoints] == ["https://any.example.com/v2", "https://quay.io/v2"]
    assert plan.endpoints[0].manifest == "/v2/team/app/manifests/v1?ns=quay.io"


def test_a_registry_config_with_auth_or_tls_has_a_hosts_dir_of_its_own_so_the_wildcard_does_not_apply():
    plan = make_plan(result(), "registry.example.com")
    assert [e.key for e in plan.endpoints] == ["https://registry.example.com/v2"]


def test_a_name_an_image_reference_cannot_carry_is_refused():
    reg = generate_hosts('mirrors:\n  internal:\n    endpoint: ["https://m.example.com"]\n', program="k3s")
    assert make_plan(reg, "internal").error == "internal cannot be named as a registry in an image reference"
    assert make_plan(reg, "internal", "app:v1").error == \
        "app:v1 is not an image of internal: containerd pulls it from docker.io"


def test_a_file_k3s_refuses_is_not_tested():
    plan = make_plan(generate_hosts("mirrors: [", program="k3s"), "docker.io")
    assert plan.error.startswith("k3s would refuse the saved registries.yaml")


def test_the_embedded_registry_is_listed_but_not_tried_from_the_worker():
    plan = make_plan(result(embedded_registry=True), "docker.io")
    assert plan.endpoints[0].key == "https://127.0.0.1:6443/v2" and plan.endpoints[0].on_node_only
    prepared = probes(plan, {}, {}, {})
    assert prepared[0].target is None and prepared[0].report.outcome == "skipped"
    assert "embedded registry (Spegel) each node runs for itself" in prepared[0].report.summary


def test_the_ipv6_embedded_registry_is_listed_but_not_tried_from_the_worker_either():
    plan = make_plan(result(embedded_registry=True, ipv6_primary=True), "docker.io")
    assert plan.endpoints[0].key == "https://[::1]:6443/v2" and plan.endpoints[0].on_node_only
    assert not plan.endpoints[0].notes


def test_credentials_are_read_as_containerd_parses_them():
    secret_names = {"h": "robot-secret"}
    assert credentials("h", {"h": {"username": "u", "password": "p"}}, secret_names)[0].label == \
        'configs["h"] (secret robot-secret, user u)'
    token, _ = credentials("h", {"h": {"identitytoken": "tok"}}, {})
    assert (token.username, token.secret) == ("", "tok")
    decoded, _ = credentials("h", {"h": {"auth": base64.b64encode(b"bob:pw:with:colons").decode()}}, {})
    assert (decoded.username, decoded.secret) == ("bob", "pw:with:colons")
    none, problem = credentials("h", {"h": {"auth": "not base64!"}}, {})
    assert none is None and "is not the base64 of user:password: containerd refuses it" in problem
    assert credentials("h", {"h": {}}, {}) == (None, ""), "auth: {} is anonymous"
    assert credentials(None, {}, {}) == (None, "")


def test_tls_material_comes_from_the_files_regui_writes_and_what_only_nodes_have_is_said():
    plan = make_plan(result(), "docker.io")
    ca_path = "/var/lib/rancher/k3s/etc/tls/registries/mirror.example.com:5000/ca.crt"
    files = {ca_path: File("CA Cert Bundle of mirror.example.com:5000", b"-----BEGIN CERTIFICATE-----\n")}
    tls, notes = tls_material(plan.endpoints[0], files)
    assert tls.ca_pem.startswith("-----BEGIN") and tls.ca_label == "the CA Cert Bundle of mirror.example.com:5000"
    assert notes == []
    _, missing = tls_material(plan.endpoints[0], {})
    assert missing == [f"The CA file {ca_path} is on the nodes only (not written by regui): this test cannot "
                       "read it and trusts the system CAs without it."]
    assert tls_words(plan.endpoints[0], {ca_path: "CA Cert Bundle of mirror.example.com:5000"}) == \
        "CA Cert Bundle of mirror.example.com:5000"
    assert tls_words(plan.endpoints[1], {}) == "certificates not verified (skip verify)"


def test_a_broken_auth_string_fails_its_endpoint_before_anything_is_sent():
    plan = make_plan(result(YAML % "not base64!"), "registry.example.com")
    cri = result(YAML % "not base64!").cri_auth
    prepared = probes(plan, cri, {}, {})
    assert [p.target is None for p in prepared] == [True]
    assert prepared[0].report.outcome == "failed"
    assert prepared[0].report.steps[0].what == "auth"
