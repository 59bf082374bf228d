"""The embedded registry (Spegel) in a cluster whose first service CIDR is IPv6.

k3s-io/k3s pkg/agent/config/config.go sets ``spegel.DefaultRegistry.InternalAddress =
controlConfig.Loopback(false)``; pkg/daemons/config/types.go ``Loopback`` returns "::1" when the
(first) service CIDR is IPv6, else "127.0.0.1". pkg/spegel/registry.go ``InjectMirror`` and
pkg/agent/containerd/config.go ``writeContainerdHosts`` then use ``net.JoinHostPort(addr, port)``:
"[::1]:6443" (9345 for RKE2), so the mirror URL is https://[::1]:6443/v2 and its own hosts
directory is certs.d/[::1]:6443.
"""

from __future__ import annotations

import pytest

from regui.k3s import generate_hosts, lint
from regui.k3s.hosts import embedded_registry_address

FILE = "mirrors:\n  docker.io:\n    endpoint: [mirror.example.com]\n    rewrite: {'^a/(.*)': 'b/$1'}\n"


@pytest.mark.parametrize(("program", "port"), [("k3s", 6443), ("rke2", 9345)])
def test_the_embedded_registry_of_an_ipv6_first_cluster_is_the_ipv6_loopback(program, port):
    assert embedded_registry_address(program, ipv6=True) == f"[::1]:{port}"
    assert embedded_registry_address(program) == f"127.0.0.1:{port}"


def test_every_mirror_gets_the_ipv6_loopback_endpoint_first_without_rewrites():
    r = generate_hosts(FILE, embedded_registry=True, ipv6_primary=True)
    hosts = r.hosts_in_order["docker.io"]
    assert [h["url"] for h in hosts] == ["https://[::1]:6443/v2", "https://mirror.example.com/v2",
                                        "https://registry-1.docker.io/v2"]
    assert '[host."https://[::1]:6443/v2"]\n  capabilities = ["pull", "resolve"]\n  ca = [' in r.hosts_dirs["docker.io"]
    assert r.hosts_dirs["docker.io"].count(".rewrite]") == 1  # the mirror's only, never the embedded one


def test_the_embedded_registry_has_its_own_hosts_dir_served_over_https():
    r = generate_hosts(FILE, embedded_registry=True, ipv6_primary=True)
    assert "127.0.0.1:6443" not in r.hosts_dirs
    assert r.hosts_dirs["[::1]:6443"].splitlines()[1] == 'server = "https://[::1]:6443/v2"'


def test_loopback_mirror_keys_are_not_shared_in_either_family():
    r = generate_hosts("mirrors:\n  '[::1]:5000': {}\n  localhost:5000: {}\n  docker.io: {}\n",
                       embedded_registry=True, ipv6_primary=True)
    assert "[::1]:5000" not in r.hosts_dirs and "localhost:5000" not in r.hosts_dirs
    assert "Distributed registry mirror skipping invalid registry: [::1]:5000" in r.warnings


def test_without_the_ipv6_flag_nothing_changes():
    r = generate_hosts(FILE, embedded_registry=True)
    assert r.hosts_in_order["docker.io"][0]["url"] == "https://127.0.0.1:6443/v2"


def test_a_configs_entry_for_the_ipv6_embedded_address_is_not_called_unused():
    text = "configs:\n  '[::1]:6443':\n    tls: {ca_file: /ca.pem}\n"
    assert "config-host-unused" not in {f.code for f in lint(text)}
