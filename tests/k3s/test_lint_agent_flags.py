"""hosts-toml-invalid checks hosts.toml as the nodes' agent flags make K3s write it. The embedded registry
adds its endpoint to every mirror, so "*" and a `_default` mirror, which K3s merges into one file, list it
twice: a file containerd rejects on nodes with --embedded-registry only. A cluster without the flag was
told so all the same, since the lint checked both variants whatever the cluster ran with.

Without the flags (an import of a file, the CLI on a file) regui cannot know them: the lint checks the file
as written without and with the embedded registry."""

from __future__ import annotations

from regui.k3s import lint
from regui.k3s.hosts import generate_hosts
from regui.k3s.linter import lint_registries
from regui.k3s.parse import parse_registries

# Valid TOML without the embedded registry, not with it (tests/k3s/test_wildcard_and_default_dir.py).
MERGED = 'mirrors:\n  "*":\n    endpoint: [https://a]\n  _default:\n    endpoint: [https://b]\n'
PLAIN = {"disable_default_endpoint": False, "embedded_registry": False, "ipv6_primary": False}
EMBEDDED = {**PLAIN, "embedded_registry": True}


def invalid(findings) -> list:
    return [f for f in findings if f.code == "hosts-toml-invalid"]


def test_nodes_without_the_embedded_registry_get_no_finding_only_the_embedded_registry_causes():
    assert invalid(lint(MERGED, flags=[PLAIN])) == []


def test_nodes_with_the_embedded_registry_are_told_their_file_is_not_toml_and_why():
    (finding,) = invalid(lint(MERGED, flags=[EMBEDDED]))
    assert finding.severity == "error" and finding.path == ("mirrors", "*")
    assert "certs.d/_default/hosts.toml" in finding.message and "--embedded-registry" in finding.message


def test_a_cluster_whose_nodes_differ_is_told_when_any_of_them_gets_a_broken_file():
    assert invalid(lint(MERGED, flags=[PLAIN, EMBEDDED]))
    assert invalid(lint_registries(parse_registries(MERGED), "k3s", flags=[PLAIN, EMBEDDED]))


def test_without_the_flags_the_file_is_checked_as_written_with_and_without_the_embedded_registry():
    assert invalid(lint(MERGED)) and invalid(lint_registries(parse_registries(MERGED)))


def test_the_flags_name_the_rke2_embedded_registry_on_rke2():
    assert "--embedded-registry" in invalid(lint(MERGED, program="rke2", flags=[EMBEDDED]))[0].message


def test_a_file_broken_without_any_flag_says_so_without_naming_one():
    # Both mirrors list https://a: the merged file declares its table twice, whatever the flags.
    broken = 'mirrors:\n  "*":\n    endpoint: [https://a, https://b]\n  _default:\n    endpoint: [https://a]\n'
    assert generate_hosts(broken).hosts_dirs["_default"].count('[host."https://a/v2"]') == 2
    found = invalid(lint(broken, flags=[PLAIN]))
    assert found and "--embedded-registry" not in found[0].message


def test_a_file_broken_by_the_default_mirror_beside_the_wildcard_is_told_to_merge_them_not_to_remove_quotes():
    # The Lint tab's hint said "Remove control characters, quotes and backslashes": none are in this file.
    (finding,) = invalid(lint(MERGED, flags=[EMBEDDED]))
    assert "_default" in finding.hint and '"*"' in finding.hint
    assert "control characters" not in finding.hint
