"""mirror-without-endpoints and disable-default-ineffective say what the nodes' agent flags make of the
entry, when the flags are known (a cluster's nodes): a mirror with no endpoints does nothing without the
embedded registry, opts the registry into peer-to-peer sharing with it, and leaves pulls to the peers alone
with --disable-default-registry-endpoint too; a configs key equal to the mirror's keeps the upstream
server line only matters to nodes that run --disable-default-registry-endpoint, and is not said when none
does. Without flags (a file on its own) both cases are said, as before. What each case claims is checked
against the hosts.toml files regui writes as K3s would (regui/k3s/hosts.py)."""

from __future__ import annotations

from regui.k3s import lint
from regui.k3s.hosts import generate_from_registries
from regui.k3s.parse import parse_registries

PLAIN = {"disable_default_endpoint": False, "embedded_registry": False, "ipv6_primary": False}
EMBEDDED = {**PLAIN, "embedded_registry": True}
NO_DEFAULT = {**PLAIN, "disable_default_endpoint": True}
PEERS_ONLY = {**EMBEDDED, "disable_default_endpoint": True}
EMPTY = "mirrors:\n  docker.io:\n"
SAME_KEY = "mirrors:\n  q.io:\n    endpoint: [https://m.io]\nconfigs:\n  q.io:\n    tls: {insecure_skip_verify: true}\n"


def finding(text: str, code: str, flags=None):
    found = [f for f in lint(text, flags=flags) if f.code == code]
    assert len(found) <= 1, found
    return found[0] if found else None


def written(text: str, flags: dict[str, bool]) -> dict[str, str]:
    return generate_from_registries(parse_registries(text), "k3s", flags["disable_default_endpoint"],
                                    flags["embedded_registry"], False).hosts_dirs


def test_without_flags_a_mirror_without_endpoints_is_told_both_cases_as_before():
    f = finding(EMPTY, "mirror-without-endpoints")
    assert f.severity == "info"
    assert f.message == ("This mirror has no endpoints: without the embedded registry it writes no hosts.toml and "
                         "the upstream is used as usual; with --embedded-registry it opts the registry into "
                         "peer-to-peer sharing.")


def test_nodes_without_the_embedded_registry_are_told_the_entry_has_no_effect():
    f = finding(EMPTY, "mirror-without-endpoints", [PLAIN])
    assert f.severity == "info" and "run without the embedded registry" in f.message
    assert "has no effect" in f.message and "peer-to-peer" not in f.message
    assert "docker.io" not in written(EMPTY, PLAIN)


def test_nodes_with_the_embedded_registry_are_told_the_registry_is_shared_then_pulled_upstream():
    f = finding(EMPTY, "mirror-without-endpoints", [EMBEDDED])
    assert f.severity == "info"
    assert "with --embedded-registry, which the cluster's nodes run, it opts docker.io into peer-to-peer" in f.message
    assert f.message.endswith("(containerd asks the embedded registry first, then the upstream).")
    assert 'server = "https://registry-1.docker.io/v2"' in written(EMPTY, EMBEDDED)["docker.io"]


def test_the_embedded_registry_without_the_upstream_is_a_warning_that_pulls_need_a_peer():
    f = finding(EMPTY, "mirror-without-endpoints", [PEERS_ONLY])
    assert f.severity == "warning"
    assert "there is no upstream after it: pulls fail when no peer has the image" in f.message
    assert "server =" not in written(EMPTY, PEERS_ONLY)["docker.io"]


def test_nodes_that_differ_are_told_what_the_entry_does_on_each_kind():
    f = finding(EMPTY, "mirror-without-endpoints", [PLAIN, EMBEDDED, PEERS_ONLY])
    assert f.severity == "warning"
    assert "which some of the cluster's nodes run" in f.message
    assert "on the nodes that also run --disable-default-registry-endpoint there is no upstream" in f.message
    assert "On the nodes without the embedded registry K3s writes no hosts.toml for it" in f.message


def test_the_wildcard_is_said_to_share_every_registry_without_a_mirror_of_its_own():
    f = finding('mirrors:\n  "*":\n', "mirror-without-endpoints", [EMBEDDED])
    assert "it opts every registry without a mirror of its own into peer-to-peer sharing" in f.message


def test_a_loopback_registry_is_never_shared_so_its_empty_entry_does_nothing_whatever_the_flags():
    text = "mirrors:\n  localhost:5000:\n"
    for flags in (None, [PLAIN], [EMBEDDED]):
        f = finding(text, "mirror-without-endpoints", flags)
        assert "does not share loopback registries: the entry has no effect" in f.message, flags
        assert "opts" not in f.message
    assert written(text, EMBEDDED).keys() == {"127.0.0.1:6443"}


def test_without_flags_the_same_key_warning_is_conditional_as_before():
    f = finding(SAME_KEY, "disable-default-ineffective")
    assert f.severity == "warning" and f.message.startswith("If you use --disable-default-registry-endpoint: ")


def test_nodes_that_run_disable_default_are_told_their_flag_does_not_remove_the_upstream():
    f = finding(SAME_KEY, "disable-default-ineffective", [NO_DEFAULT])
    assert f.severity == "warning" and f.path == ("configs", "q.io")
    assert f.message.startswith("--disable-default-registry-endpoint, which the cluster's nodes run, does not "
                                "remove q.io's upstream: configs has the same key")
    assert 'server = "https://q.io/v2"' in written(SAME_KEY, NO_DEFAULT)["q.io"]
    some = finding(SAME_KEY, "disable-default-ineffective", [PLAIN, NO_DEFAULT])
    assert "which some of the cluster's nodes run" in some.message


def test_no_node_running_disable_default_means_no_warning_about_it():
    assert finding(SAME_KEY, "disable-default-ineffective", [PLAIN]) is None
    assert finding(SAME_KEY, "disable-default-ineffective", [PLAIN, EMBEDDED]) is None
