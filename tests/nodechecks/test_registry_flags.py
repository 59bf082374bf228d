"""The agent flags K3s generates hosts.toml with (--disable-default-registry-endpoint, --embedded-registry):
set per cluster, overridden per node, and read from the node's own K3s config, which wins."""

from __future__ import annotations

import pytest
from django.test import Client

from regui.inventory.models import Node
from regui.nodechecks.services import node_flags, readback_run
from regui.registries.models import Cluster
from regui.registries.selectors import cluster_render
from regui.remote.probe_parse import NodeConfig, flag_value, parse_readback
from tests.fakes.k3s import write_config, write_hosts

pytestmark = pytest.mark.django_db(transaction=True)

DISABLE, EMBEDDED = "disable-default-registry-endpoint", "embedded-registry"


def values(flags) -> dict[str, tuple[bool, str]]:
    return {k: (f.value, f.source) for k, f in flags.items()}


def test_a_node_takes_its_clusters_flags_unless_it_has_its_own():
    cluster = Cluster(name="prod", disable_default_registry_endpoint=True)
    node = Node(cluster=cluster, name="a1")
    assert values(node_flags(node)) == {DISABLE: (True, "the cluster's setting in regui"),
                                        EMBEDDED: (False, "the cluster's setting in regui")}
    node.embedded_registry, node.disable_default_registry_endpoint = True, False
    assert values(node_flags(node)) == {DISABLE: (False, "this node's setting in regui"),
                                        EMBEDDED: (True, "this node's setting in regui")}


def test_what_the_nodes_config_says_wins_and_says_where_it_comes_from():
    node = Node(cluster=Cluster(name="prod", disable_default_registry_endpoint=True), name="a1")
    config = parse_readback("RG-CONFIG 1 /etc/rancher/k3s/config.yaml\n"
                            "RG-FLAG 1 disable-default-registry-endpoint: false  # upstream too\n").config
    flag = node_flags(node, config)[DISABLE]
    assert (flag.value, flag.source) == (False, "the node's /etc/rancher/k3s/config.yaml")
    assert flag.note == "differs from the cluster's setting in regui (on)"


def test_config_yaml_d_files_override_config_yaml_in_name_order():
    config = parse_readback("RG-CONFIG 1 /etc/rancher/k3s/config.yaml\nRG-FLAG 1 embedded-registry: true\n"
                            "RG-CONFIG 2 /etc/rancher/k3s/config.yaml.d/10-a.yaml\n"
                            "RG-CONFIG 3 /etc/rancher/k3s/config.yaml.d/20-b.yaml\n"
                            "RG-FLAG 3 \"embedded-registry\": 'false'\n").config
    assert config.files == ["/etc/rancher/k3s/config.yaml", "/etc/rancher/k3s/config.yaml.d/10-a.yaml",
                            "/etc/rancher/k3s/config.yaml.d/20-b.yaml"]
    setting = config.flags[EMBEDDED]
    assert (setting.value, setting.path) == (False, "/etc/rancher/k3s/config.yaml.d/20-b.yaml")


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("True", True), ('"true"', True), ("yes", True),
                                            ("false", False), ("off", False), ("'no'", False), ("maybe", None),
                                            ("", None), ("true # comment", True)])
def test_a_flag_is_read_as_k3s_reads_a_yaml_boolean(raw, value):
    assert flag_value(raw) is value


def test_a_flag_k3s_would_not_read_as_a_boolean_is_noted_and_the_setting_in_regui_applies():
    node = Node(cluster=Cluster(name="prod"), name="a1")
    config = NodeConfig()
    config.flags.update(parse_readback("RG-CONFIG 1 /c.yaml\nRG-FLAG 1 embedded-registry: sure\n").config.flags)
    flag = node_flags(node, config)[EMBEDDED]
    assert (flag.value, flag.source) == (False, "the cluster's setting in regui")
    assert flag.note == "/c.yaml sets it to 'sure', which K3s does not read as true or false"


def test_the_read_back_predicts_with_the_flags_of_the_nodes_config(checks):
    (node,) = checks.add("agent")
    checks.push()
    fake = checks["a1"]
    write_config(fake, "token: t\n", name="")
    write_config(fake, "disable-default-registry-endpoint: true\n", name="50-registry.yaml")
    write_hosts(fake, cluster_render(checks.cluster, reveal=True), disable_default_endpoint=True)
    readback = readback_run(node.pk)
    assert readback.state == "agrees", readback.dirs
    assert readback.flags[DISABLE]["source"] == "the node's /etc/rancher/k3s/config.yaml.d/50-registry.yaml"
    client = Client()
    client.force_login(checks.user)
    text = client.get(f"/clusters/{checks.cluster.name}/nodes/{node.pk}/checks/").content.decode()
    assert f'data-flag="{DISABLE}" data-value="on"' in text and "config.yaml.d/50-registry.yaml" in text
    # Without the node's word for it, regui predicts the cluster's default: a server line K3s did not write.
    fake.path("/etc/rancher/k3s/config.yaml.d/50-registry.yaml").unlink()
    readback = readback_run(node.pk)
    assert readback.state == "differs"
    assert [(kind, text) for kind, text, *_ in readback.differing[0]["lines"] if kind == "del"] == [
        ("del", 'server = "https://registry-1.docker.io/v2"'), ("del", 'capabilities = ["pull", "resolve", "push"]')]


def test_the_read_back_predicts_the_ipv6_loopback_of_an_ipv6_first_cluster(checks):
    checks.cluster.embedded_registry = checks.cluster.ipv6_primary = True
    checks.cluster.save()
    (node,) = checks.add("agent")
    checks.push()
    write_hosts(checks["a1"], cluster_render(checks.cluster, reveal=True), embedded_registry=True, ipv6_primary=True)
    readback = readback_run(node.pk)
    assert readback.state == "agrees", readback.dirs
    checks.cluster.ipv6_primary = False
    checks.cluster.save()
    readback = readback_run(node.pk)
    assert readback.state == "differs"
    assert {d["name"] for d in readback.differing} >= {"127.0.0.1:6443", "[::1]:6443"}


def test_the_cluster_and_node_forms_set_the_flags(checks):
    (node,) = checks.add("agent")
    client = Client()
    client.force_login(checks.user)
    r = client.post(f"/clusters/{checks.cluster.name}/edit/", {
        "name": checks.cluster.name, "distro": "k3s", "description": "", "embedded_registry": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    checks.cluster.refresh_from_db()
    assert (checks.cluster.embedded_registry, checks.cluster.disable_default_registry_endpoint) == (True, False)
    form = client.get(f"/clusters/{checks.cluster.name}/nodes/{node.pk}/edit/").content.decode()
    assert "the cluster&#x27;s (on)" in form or "the cluster's (on)" in form
    r = client.post(f"/clusters/{checks.cluster.name}/nodes/{node.pk}/edit/", {
        "name": node.name, "address": node.address, "port": node.port, "role": "agent", "ssh_user": node.ssh_user,
        "credential_kind": "key", "embedded_registry": "false", "disable_default_registry_endpoint": "unknown"})
    assert r.status_code == 302, r.content.decode()[:2000]
    node.refresh_from_db()
    assert (node.embedded_registry, node.disable_default_registry_endpoint) == (False, None)
    assert values(node_flags(node))[EMBEDDED] == (False, "this node's setting in regui")
