"""Reading a server's settings, pure (regui/remote/server_settings.py): the program asks the distro's
bundled kubectl for the kubernetes service's ClusterIP and sends back only the flag lines of the config
files; the parser reads IPv6 first from the address's family, the flags as K3s merges its files, and says
"not read" (never a guess) for anything it cannot read."""

from __future__ import annotations

import pytest

from regui.remote.server_settings import Found, parse_settings, settings_program

CONFIG = "RG-CONFIG 1 /etc/rancher/k3s/config.yaml\n"
DONE = "RG-DONE\n"


def read(text: str, distro: str = "k3s") -> dict[str, Found]:
    return parse_settings(text, distro).found


def value(text: str, setting: str, distro: str = "k3s") -> bool | None:
    return read(text, distro)[setting].value


def test_k3s_asks_k3s_kubectl_and_rke2_its_bundled_kubectl_with_its_kubeconfig_for_the_service():
    k3s = settings_program("k3s")
    assert "out=$(k3s kubectl get service kubernetes --namespace default" in k3s
    assert "-o 'jsonpath={.spec.clusterIP}'" in k3s
    rke2 = settings_program("rke2")
    assert ("/var/lib/rancher/rke2/bin/kubectl --kubeconfig /etc/rancher/rke2/rke2.yaml get service kubernetes"
            in rke2)
    assert "/etc/rancher/rke2/config.yaml /etc/rancher/rke2/config.yaml.d/*.yaml" in rke2


def test_only_the_lines_of_the_two_flags_leave_the_node_never_the_whole_config_file():
    program = settings_program("k3s")
    assert "grep -E \"^[\\\"']?(disable-default-registry-endpoint|embedded-registry)[\\\"']?" in program
    assert "cat " not in program and "base64" not in program


@pytest.mark.parametrize(("answer", "ipv6"), [("10.43.0.1", False), ("fd00:43::1", True), ("2001:db8::1", True),
                                              ("172.20.0.1", False)])
def test_the_service_network_is_ipv6_first_exactly_when_the_kubernetes_service_has_an_ipv6_cluster_ip(answer, ipv6):
    report = parse_settings(f"RG-KUBECTL 0\nRG-CLUSTERIP {answer}\n{DONE}", "k3s")
    assert report.found["ipv6_primary"].value is ipv6
    assert report.cluster_ip == answer
    assert report.found["ipv6_primary"].source == (
        f"the kubernetes service's ClusterIP {answer} is {'IPv6' if ipv6 else 'IPv4'}")


def test_a_cluster_ip_that_is_not_an_address_is_not_read_and_says_what_kubectl_answered():
    found = read(f"RG-KUBECTL 0\nRG-CLUSTERIP None\n{DONE}")["ipv6_primary"]
    assert found.value is None
    assert found.source == ("not read: k3s kubectl answered 'None' for the kubernetes service's ClusterIP, which is "
                            "not an IP address")
    assert value(f"RG-KUBECTL 0\n{DONE}", "ipv6_primary") is None, "an empty answer is no answer"


def test_kubectl_that_fails_or_is_missing_leaves_the_service_network_unread_with_the_reason():
    failed = read(f"RG-KUBECTL 1\nRG-KUBECTL-ERROR The connection to the server 127.0.0.1:6443 was refused\n{DONE}")
    assert failed["ipv6_primary"] == Found("ipv6_primary", None, "not read: k3s kubectl failed (exit status 1): The "
                                           "connection to the server 127.0.0.1:6443 was refused")
    missing = read(f"RG-KUBECTL missing\n{DONE}", "rke2")["ipv6_primary"]
    assert missing.value is None
    assert missing.source == ("not read: the server has no bundled kubectl (no /var/lib/rancher/rke2/bin/kubectl); "
                              "is rke2 installed there, and is it a server?")


def test_the_flags_come_from_the_config_files_the_last_file_to_set_one_winning():
    text = (CONFIG + "RG-FLAG 1 embedded-registry: true\nRG-FLAG 1 disable-default-registry-endpoint: true\n"
            "RG-CONFIG 2 /etc/rancher/k3s/config.yaml.d/90-registry.yaml\n"
            "RG-FLAG 2 \"disable-default-registry-endpoint\": 'false'\nRG-KUBECTL 0\nRG-CLUSTERIP 10.43.0.1\n" + DONE)
    found = read(text)
    assert found["embedded_registry"] == Found("embedded_registry", True,
                                               "/etc/rancher/k3s/config.yaml: embedded-registry: true")
    assert found["disable_default_registry_endpoint"].value is False
    assert found["disable_default_registry_endpoint"].source.startswith(
        "/etc/rancher/k3s/config.yaml.d/90-registry.yaml:")


def test_a_flag_no_config_file_sets_is_off_as_k3s_defaults_it_and_says_so():
    found = read(CONFIG + "RG-KUBECTL 0\nRG-CLUSTERIP 10.43.0.1\n" + DONE)
    assert found["embedded_registry"] == Found("embedded_registry", False,
                                               "no config file sets it: off, embedded-registry's default")
    none = read("RG-KUBECTL 0\nRG-CLUSTERIP 10.43.0.1\n" + DONE)["disable_default_registry_endpoint"]
    assert none.source == "no config file sets it (there is none): off, disable-default-registry-endpoint's default"


def test_a_flag_set_to_something_k3s_does_not_read_as_a_boolean_is_not_read_not_guessed():
    found = read(CONFIG + "RG-FLAG 1 embedded-registry: sure\nRG-FLAG 1 disable-default-registry-endpoint:\n"
                 + DONE)
    assert found["embedded_registry"] == Found(
        "embedded_registry", None,
        "not read: /etc/rancher/k3s/config.yaml sets it to 'sure', which K3s does not read as true or false")
    assert found["disable_default_registry_endpoint"].value is None, "a value on the next line is not read"


def test_an_output_that_stops_before_the_program_ends_reads_nothing_at_all():
    cut = read(CONFIG + "RG-FLAG 1 embedded-registry: true\n")
    assert {f.value for f in cut.values()} == {None}
    assert cut["embedded_registry"].source == "not read: the server's output ended before regui's program did"
    garbage = read("Welcome to the node!\nThis is not a shell.\n")
    assert {f.value for f in garbage.values()} == {None}
    assert garbage["ipv6_primary"].source == ("not read: no line of regui's program came back from the server (its "
                                              "output began 'Welcome to the node!\\nThis is not a shell.')")


def test_a_node_that_sends_long_lines_gets_each_finding_cut_to_a_bounded_length_however_the_output_was_made():
    # A node's shell prints what it likes: the program's own cuts (cut -c, head -n) are no bound on it.
    long = "x" * 100_000
    text = (f"RG-CONFIG 1 /etc/rancher/k3s/{long}.yaml\nRG-FLAG 1 embedded-registry: true\n"
            f"RG-FLAG 1 disable-default-registry-endpoint: {long}\nRG-KUBECTL 1\n"
            + f"RG-KUBECTL-ERROR {long}\n" * 5 + DONE)
    found = read(text)
    assert found["embedded_registry"].value is True
    assert found["disable_default_registry_endpoint"].value is None
    assert found["ipv6_primary"].value is None
    assert all(len(f.source) <= 600 for f in found.values()), {k: len(f.source) for k, f in found.items()}
