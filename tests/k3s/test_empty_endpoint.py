"""An endpoint that is an empty string (issue 12 part 4).

K3s normalises "" to https:///v2: a URL whose host is empty. getHostConfigs gives an endpoint its
mirror's rewrites unless its host equals the embedded registry's address, and with the embedded
registry off that address is net.JoinHostPort("", "") = ":" (spec §2.2 step 2.2, §2.3 item 1;
K3s pkg/agent/containerd/config.go), so the empty host keeps the rewrites.
"""

from __future__ import annotations

from regui.k3s import explain_pull, generate_hosts

REWRITE = '    rewrite: {"^library/(.*)": "hub/$1"}\n'
EMPTY_FIRST = 'mirrors:\n  docker.io:\n    endpoint: ["", https://m]\n' + REWRITE


def _hosts(result, directory="docker.io"):
    return {h["url"]: h.get("rewrite") for h in result.hosts_in_order[directory] if h["role"] == "mirror"}


def test_an_empty_endpoint_gets_the_mirrors_rewrites():
    result = generate_hosts(EMPTY_FIRST)
    assert _hosts(result) == {"https:///v2": {"^library/(.*)": "hub/$1"}, "https://m/v2": {"^library/(.*)": "hub/$1"}}
    assert '[host."https:///v2".rewrite]\n    "^library/(.*)" = "hub/$1"\n' in result.hosts_dirs["docker.io"]


def test_with_the_embedded_registry_only_its_own_endpoint_loses_the_rewrites():
    hosts = _hosts(generate_hosts(EMPTY_FIRST, embedded_registry=True))
    assert hosts == {"https://127.0.0.1:6443/v2": None, "https:///v2": {"^library/(.*)": "hub/$1"},
                     "https://m/v2": {"^library/(.*)": "hub/$1"}}


def test_an_endpoint_whose_host_is_a_lone_colon_loses_them_as_k3s_own_address_does():
    # ":" is exactly what K3s compares with when the embedded registry is off.
    hosts = _hosts(generate_hosts('mirrors:\n  docker.io:\n    endpoint: [":"]\n' + REWRITE))
    assert hosts == {"https://:/v2": None}


def test_the_pull_explanation_rewrites_the_empty_host_and_says_it_is_never_reached():
    p = explain_pull(EMPTY_FIRST, "nginx")
    assert p.attempts[0].urls == ["https:///v2/hub/nginx/manifests/latest?ns=docker.io"]
    assert p.attempts[0].rewritten_from == "library/nginx"
    assert any(n.startswith("https:///v2 has no host name") for n in p.notes)


def test_a_pull_with_only_real_hosts_gets_no_such_note():
    assert explain_pull('mirrors:\n  docker.io:\n    endpoint: [https://m]\n', "nginx").notes == []
