"""One test per lint code: it fires on a bad input and stays silent once fixed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import regui.k3s.linter as lint_module
from regui.k3s import lint
from regui.k3s.limits import MAX_VALUE_CHARS

M = "mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n"

# code: (bad registries.yaml, fixed registries.yaml, expected path of the finding)
CASES = {
    "parse-error": ("mirrors:\n  docker.io:\n    endpoint: https://m\n", M, ()),
    "auth-token-key": ("configs:\n  h.io:\n    auth:\n      token: t\n",
                       "configs:\n  h.io:\n    auth:\n      identity_token: t\n", ("configs", "h.io", "auth", "token")),
    "unknown-key": ("mirrors:\n  docker.io:\n    endpoints: [https://m]\n", M, ("mirrors", "docker.io", "endpoints")),
    "invalid-endpoint": ("mirrors:\n  docker.io:\n    endpoint: ['ftp://m.example.com']\n", M,
                         ("mirrors", "docker.io", "endpoint", 0)),
    "endpoint-breaks-hosts-toml": ("mirrors:\n  docker.io:\n    endpoint: ['https://m.example.com/v2?a\"b']\n", M,
                                   ("mirrors", "docker.io", "endpoint", 0)),
    "endpoint-plain-http-guess": ("mirrors:\n  docker.io:\n    endpoint: ['10.0.0.5:5000']\n",
                                  "mirrors:\n  docker.io:\n    endpoint: ['http://10.0.0.5:5000']\n",
                                  ("mirrors", "docker.io", "endpoint", 0)),
    "endpoint-no-scheme": ("mirrors:\n  docker.io:\n    endpoint: ['m.example.com:5000']\n",
                           "mirrors:\n  docker.io:\n    endpoint: ['https://m.example.com:5000']\n",
                           ("mirrors", "docker.io", "endpoint", 0)),
    "k8s-gcr-frozen": ("mirrors:\n  registry.k8s.io:\n    endpoint: ['https://k8s.gcr.io']\n",
                       "mirrors:\n  registry.k8s.io:\n    endpoint: ['https://registry.k8s.io']\n",
                       ("mirrors", "registry.k8s.io", "endpoint", 0)),
    "config-host-unused": ("mirrors:\n  docker.io:\n    endpoint: ['https://m.io:5000']\nconfigs:\n  m.io:\n"
                           "    tls: {ca_file: /c}\n",
                           "mirrors:\n  docker.io:\n    endpoint: ['https://m.io:5000']\nconfigs:\n  m.io:5000:\n"
                           "    tls: {ca_file: /c}\n", ("configs", "m.io")),
    "insecure-skip-verify-on-http": (
        "mirrors:\n  docker.io:\n    endpoint: ['http://m:5000']\nconfigs:\n  m:5000:\n    tls: {insecure_skip_verify: true}\n",
        "mirrors:\n  docker.io:\n    endpoint: ['http://m:5000']\n", ("mirrors", "docker.io", "endpoint", 0)),
    "endpoint-override-path": ("mirrors:\n  docker.io:\n    endpoint: ['https://m.example.com/v2/']\n", M,
                               ("mirrors", "docker.io", "endpoint", 0)),
    "default-endpoint-listed": ("mirrors:\n  docker.io:\n    endpoint: [https://m.example.com, docker.io]\n", M,
                                ("mirrors", "docker.io", "endpoint", 1)),
    "duplicate-endpoint": ("mirrors:\n  docker.io:\n    endpoint: [https://m.example.com, m.example.com]\n", M,
                           ("mirrors", "docker.io", "endpoint", 1)),
    "mirror-without-endpoints": ("mirrors:\n  docker.io:\n", M, ("mirrors", "docker.io")),
    "mirror-key-never-matches": ("mirrors:\n  myregistry:\n    endpoint: [https://m]\n",
                                 "mirrors:\n  myregistry.local:\n    endpoint: [https://m]\n", ("mirrors", "myregistry")),
    "invalid-registry-key": ("mirrors:\n  'a b.io':\n    endpoint: [https://m]\n",
                             "mirrors:\n  'ab.io':\n    endpoint: [https://m]\n", ("mirrors", "a b.io")),
    "config-port-mismatch": ("mirrors:\n  docker.io:\n    endpoint: ['https://m.io:443']\nconfigs:\n  m.io:\n"
                             "    auth: {username: u}\n",
                             "mirrors:\n  docker.io:\n    endpoint: ['https://m.io:443']\nconfigs:\n  m.io:443:\n"
                             "    auth: {username: u}\n", ("mirrors", "docker.io", "endpoint", 0)),
    "config-keyed-by-mirror-name": ("mirrors:\n  q.io:\n    endpoint: [https://m.io]\nconfigs:\n  q.io:\n"
                                    "    auth: {username: u}\n",
                                    "mirrors:\n  q.io:\n    endpoint: [https://m.io]\nconfigs:\n  m.io:\n"
                                    "    auth: {username: u}\n", ("configs", "q.io")),
    "dockerhub-auth-key": ("configs:\n  docker.io:\n    auth: {username: u}\n",
                           "configs:\n  registry-1.docker.io:\n    auth: {username: u}\n", ("configs", "docker.io", "auth")),
    "wildcard-auth-unused": ('configs:\n  "*":\n    auth: {username: u}\n', 'configs:\n  "*":\n    tls: {ca_file: /c}\n',
                             ("configs", "*", "auth")),
    "wildcard-config-dropped": ('mirrors:\n  "*":\n    endpoint: [https://m]\nconfigs:\n  "*":\n    tls: {ca_file: /c}\n',
                                'mirrors:\n  "*":\n    endpoint: [https://m]\nconfigs:\n  m:\n    tls: {ca_file: /c}\n',
                                ("configs", "*")),
    "rewrite-names-registry": ('mirrors:\n  docker.io:\n    endpoint: [https://m.io]\n    rewrite:\n'
                               '      "^docker.io/(.*)": "hub/$1"\n',
                               'mirrors:\n  docker.io:\n    endpoint: [https://m.io]\n    rewrite:\n'
                               '      "^(.*)": "hub/$1"\n', ("mirrors", "docker.io", "rewrite", "^docker.io/(.*)")),
    "default-dir-collision": ('configs:\n  "*":\n    tls: {ca_file: /c}\n  _default:\n    tls: {ca_file: /d}\n',
                              'configs:\n  "*":\n    tls: {ca_file: /c}\n', ("configs", "_default")),
    "disable-default-ineffective": ("mirrors:\n  q.io:\n    endpoint: [https://m.io]\nconfigs:\n  q.io:\n"
                                    "    tls: {ca_file: /c}\n",
                                    "mirrors:\n  q.io:\n    endpoint: [https://m.io]\nconfigs:\n  m.io:\n"
                                    "    tls: {ca_file: /c}\n", ("configs", "q.io")),
    "rewrite-invalid-regex": (M + "    rewrite: {'^(?!x)': y}\n", M + "    rewrite: {'^x': y}\n",
                              ("mirrors", "docker.io", "rewrite", "^(?!x)")),
    "rewrite-breaks-hosts-toml": (M + "    rewrite: {'^library/(\\w+)$': 'hub/$1'}\n",
                                  M + "    rewrite: {'^library/([a-z]+)$': 'hub/$1'}\n",
                                  ("mirrors", "docker.io", "rewrite", "^library/(\\w+)$")),
    "rewrite-ambiguous-group": (M + "    rewrite: {'^(.*)$': '$1_x'}\n", M + "    rewrite: {'^(.*)$': '${1}_x'}\n",
                                ("mirrors", "docker.io", "rewrite", "^(.*)$")),
    "rewrite-overlap": (M + "    rewrite: {'(.*)': 'a/$1', 'jetstack/(.*)': 'b/$1'}\n",
                        M + "    rewrite: {'^library/(.*)': 'a/$1', '^jetstack/(.*)': 'b/$1'}\n",
                        ("mirrors", "docker.io", "rewrite", "jetstack/(.*)")),
    "rewrites-lost": ("mirrors:\n  r.io:\n    endpoint: [https://r.io]\n    rewrite: {'^a': b}\n",
                      "mirrors:\n  r.io:\n    endpoint: ['https://r.io:443']\n    rewrite: {'^a': b}\n",
                      ("mirrors", "r.io", "rewrite")),
    "tls-client-pair-incomplete": ("configs:\n  r.io:\n    tls: {cert_file: /c}\n",
                                   "configs:\n  r.io:\n    tls: {cert_file: /c, key_file: /k}\n", ("configs", "r.io", "tls")),
    "tls-path-breaks-hosts-toml": ('configs:\n  r.io:\n    tls: {ca_file: "/c\\x01"}\n',
                                   "configs:\n  r.io:\n    tls: {ca_file: /c}\n", ("configs", "r.io", "tls", "ca_file")),
    "configs-key-breaks-config-toml": ('configs:\n  "it\'s.io":\n    auth: {username: u}\n',
                                       "configs:\n  its.io:\n    auth: {username: u}\n", ("configs", "it's.io")),
    # The file itself is checked: here "*" and "_default" share a directory and the embedded registry adds
    # its endpoint to both (mirror-key-never-matches says why; tests/k3s/test_wildcard_and_default_dir.py).
    "hosts-toml-invalid": ("mirrors:\n  '*': {}\n  _default: {}\n", "mirrors:\n  '*': {}\n", ("mirrors", "*")),
    "restart-required": (M, "", ()),
    "too-large": ("mirrors:\n  docker.io:\n    endpoint: [https://m.example.com/" + "p" * MAX_VALUE_CHARS + "]\n",
                  M, ()),
}


def _documented_codes() -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]+)\s{2,}(?:error|warning|info|warn/inf)", lint_module.__doc__, re.M))


def test_every_documented_code_has_a_test():
    assert _documented_codes() == set(CASES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_it_fires_on_the_bad_input(code):
    bad, _fixed, path = CASES[code]
    hits = [f for f in lint(bad) if f.code == code]
    assert hits, f"{code} did not fire"
    assert hits[0].path == path
    assert hits[0].message and hits[0].hint
    assert hits[0].severity in ("error", "warning", "info")


@pytest.mark.parametrize("code", sorted(CASES))
def test_it_stays_silent_on_the_fixed_input(code):
    _bad, fixed, _path = CASES[code]
    assert [f for f in lint(fixed) if f.code == code] == []


def test_severities_follow_the_policy():
    assert {f.severity for f in lint(CASES["parse-error"][0])} == {"error"}
    assert lint(CASES["rewrite-overlap"][0])[0].severity == "warning"


def test_a_clean_file_only_gets_the_restart_note():
    assert [f.code for f in lint(M)] == ["restart-required"]


def test_rke2_mentions_its_own_services():
    note = next(f for f in lint(M, program="rke2") if f.code == "restart-required")
    assert "rke2-server" in note.message


def test_the_module_docstring_is_the_codes_table():
    assert "rewrite-overlap" in (Path(lint_module.__file__).read_text())


def test_it_reports_each_finding_once():
    from regui.k3s import lint

    text = ("mirrors:\n  docker.io:\n    endpoint: [\"https://a.example.com:5000\"]\n"
            "configs:\n  docker.io:\n    auth: {username: u, password: p}\n")
    keys = [(f.code, f.path, f.message) for f in lint(text)]
    assert len(keys) == len(set(keys))
    assert any(code == "config-keyed-by-mirror-name" for code, _, _ in keys)
