"""Which certs.d directory containerd reads for a pull (spec §2.6.1, containerd hostPaths/hostDirectory):
``<host>_<port>_`` first, then ``<host>:<port>``, then ``_default``; the first that exists wins."""

from __future__ import annotations

from regui.k3s import explain_pull

BOTH = "mirrors:\n  r.io:5000: {endpoint: [n.io]}\n  r.io_5000_: {endpoint: [m.io]}\n"


def test_a_directory_named_host_underscore_port_underscore_is_read_before_host_colon_port():
    p = explain_pull(BOTH, "r.io:5000/app")
    assert p.hosts_dir == "r.io_5000_"
    assert p.attempts[0].urls == ["https://m.io/v2/app/manifests/latest?ns=r.io%3A5000"]


def test_the_underscore_directory_also_wins_over_the_wildcard():
    p = explain_pull('mirrors:\n  "*": {endpoint: [w.io]}\n  r.io_5000_: {endpoint: [m.io]}\n', "r.io:5000/app")
    assert p.hosts_dir == "r.io_5000_"


def test_a_registry_without_a_port_has_no_underscore_candidate():
    p = explain_pull("mirrors:\n  r.io: {endpoint: [n.io]}\n  r.io_: {endpoint: [m.io]}\n", "r.io/app")
    assert p.hosts_dir == "r.io"


def test_without_the_underscore_directory_host_colon_port_is_read():
    p = explain_pull("mirrors:\n  r.io:5000: {endpoint: [n.io]}\n", "r.io:5000/app")
    assert p.hosts_dir == "r.io:5000"
