"""Property tests: no input crashes the engine, and its views agree with each other."""

from __future__ import annotations

import tomllib
from urllib.parse import urlsplit

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from regui.k3s import explain_pull, generate_hosts, lint

# The rules that predict a broken hosts.toml from the input itself; hosts-toml-invalid, the linter's
# own tomllib safety net, would make the TOML property below true by construction.
from regui.k3s.linter import PREDICTS_BROKEN_TOML

SETTINGS = settings(max_examples=int(__import__("os").environ.get("K3S_PROP_EXAMPLES", "200")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
BREAKS_TOML = {*PREDICTS_BROKEN_TOML, "hosts-toml-invalid"}

hosts = st.sampled_from(["docker.io", "registry-1.docker.io", "quay.io", "reg.example.com", "reg.example.com:5000",
                         "reg.example.com:443", "localhost:5000", "127.0.0.1:5000", "[::1]:5000", "10.0.0.5:80",
                         "*", "_default", "myregistry", "127.0.0.1:6443", "a b", "h:1:2", ""])
endpoints = st.one_of(
    st.builds(lambda s, h, p: f"{s}{h}{p}", st.sampled_from(["", "https://", "http://", "ftp://", "HTTPS://"]),
              hosts.filter(lambda h: h != "*"),
              st.sampled_from(["", "/", "/v2", "/v2/", "/prefix/v2", "/p", "//v2", "/with space", "/v2?ns=x",
                               "/a%2fb", "#frag"])),
    st.text(max_size=20),
)
patterns = st.one_of(st.sampled_from(["^rancher/(.*)", "(.*)", "jetstack/(.*)", "^library/(\\w+)$", "a\"b",
                                      "(?!x)", "[", "^(?P<n>[a-z]+)/(.*)", "", "x$"]), st.text(max_size=8))
replacements = st.one_of(st.sampled_from(["x/$1", "${1}_y", "$1_y", "$$", "${n}", "\\1", ""]), st.text(max_size=8))
paths = st.one_of(st.sampled_from(["/etc/ca.pem", "", "/a b/c", "/q\"uote"]), st.text(max_size=10))
auths = st.fixed_dictionaries({}, optional={
    "username": st.text(max_size=5), "password": st.one_of(st.text(max_size=5), st.integers()),
    "auth": st.text(max_size=5), "identity_token": st.text(max_size=5), "token": st.text(max_size=3)})
tlss = st.fixed_dictionaries({}, optional={"ca_file": paths, "cert_file": paths, "key_file": paths,
                                           "insecure_skip_verify": st.booleans()})
mirrors = st.dictionaries(hosts, st.one_of(st.none(), st.fixed_dictionaries({}, optional={
    "endpoint": st.lists(endpoints, max_size=4),
    "rewrite": st.dictionaries(patterns, replacements, max_size=3)})), max_size=4)
configs = st.dictionaries(hosts, st.fixed_dictionaries({}, optional={"auth": st.one_of(st.none(), auths),
                                                                      "tls": st.one_of(st.none(), tlss)}), max_size=4)
documents = st.builds(lambda m, c: yaml.safe_dump({"mirrors": m, "configs": c}, allow_unicode=True), mirrors, configs)
flags = st.fixed_dictionaries({"program": st.sampled_from(["k3s", "rke2"]), "disable_default_endpoint": st.booleans(),
                               "embedded_registry": st.booleans()})
images = st.sampled_from(["nginx", "rancher/pause:3.6", "quay.io/jetstack/cm:v1", "reg.example.com/app",
                          "reg.example.com:5000/app@sha256:" + "a" * 64, "localhost:5000/app", "Bad Image", "",
                          "reg.example.com:443/x", "registry-1.docker.io/library/nginx"])


@SETTINGS
@given(st.one_of(st.text(), st.binary(max_size=200), st.none(), st.integers()), images)
def test_no_arbitrary_input_makes_the_engine_raise(text, image):
    assert generate_hosts(text).hosts_dirs is not None
    assert explain_pull(text, image) is not None
    assert isinstance(lint(text), list)


@SETTINGS
@given(documents, flags, images)
def test_no_generated_document_makes_the_engine_raise(doc, fl, image):
    result = generate_hosts(doc, **fl)
    assert result.parse_error is None
    explain_pull(doc, image, **fl)
    lint(doc, program=fl["program"])


def _netloc(url: str) -> str:
    # A generated endpoint may hold a lone "[" or "]", which urlsplit refuses as a broken IPv6 address.
    try:
        return urlsplit(url).netloc
    except ValueError:
        return url.partition("://")[2].partition("/")[0]


def _predicted(findings, directory: str, hosts: list[dict] | None = None) -> bool:
    """An input-level error names the registry whose certs.d directory comes out invalid, or (for a
    config's TLS paths) a host that directory's hosts.toml lists, e.g. registry-1.docker.io for docker.io."""
    listed = {_netloc(h.get("url", "")) for h in hosts or []}
    for f in findings:
        key = f.path[1] if len(f.path) > 1 else None
        if f.code == "tls-path-breaks-hosts-toml" and key in listed:
            return True
        if ("_default" if key == "*" else key) != directory:
            continue
        if f.code in PREDICTS_BROKEN_TOML or (f.code == "mirror-key-never-matches" and key == "_default"):
            return True
    return False


@SETTINGS
@given(documents, flags)
def test_every_hosts_toml_is_valid_toml_unless_a_rule_predicts_it(doc, fl):
    result = generate_hosts(doc, **fl)
    findings = [f for f in lint(doc, program=fl["program"]) if f.severity == "error"]
    for name, text in result.hosts_dirs.items():
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            assert _predicted(findings, name, result.hosts_in_order.get(name)), \
                f"{name} is invalid TOML ({e}) but no rule predicts it:\n{text}"


@SETTINGS
@given(documents, flags, images)
def test_explain_pull_tries_the_hosts_of_the_directory_it_picked(doc, fl, image):
    result = generate_hosts(doc, **fl)
    p = explain_pull(doc, image, **fl)
    if p.error is not None or p.hosts_dir is None:
        return
    if p.notes or {f.code for f in lint(doc, program=fl["program"])} & BREAKS_TOML:
        return  # containerd rejects the file (or reads a different string than K3s wrote)
    expected = [h.get("url", "") for h in result.hosts_in_order[p.hosts_dir]]
    assert [a.host_url for a in p.attempts] == expected
    assert [a.role for a in p.attempts] == [h["role"].replace("root-tls-only", "server")
                                           for h in result.hosts_in_order[p.hosts_dir]]


@SETTINGS
@given(st.text(alphabet="\\\"'/uUxeN_LP0123456789abcdefABCDEF \t", max_size=14))
@example("\\ud800")  # an escaped surrogate was an internal error
def test_any_escape_in_a_double_quoted_value_is_read_or_refused_in_yaml_v2_words(inner):
    result = generate_hosts(f'mirrors:\n  a.io:\n    endpoint: ["https://{inner}"]\n')
    assert result.parse_error is None or result.parse_error.startswith("yaml: "), result.parse_error
