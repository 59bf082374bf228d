"""The engine's hosts.toml against a real containerd and a real registry.

registries.yaml -> ``generate_hosts`` -> ``<hosts dir>/<name>/hosts.toml`` -> ``ctr images pull
--hosts-dir`` (Debian's containerd 1.6) -> docker-registry's access log, compared with the URLs
``explain_pull`` predicts. Everything listens on 127.0.0.1; ctr runs with HTTP(S)_PROXY pointing at
a local sink, so a fallback to a registry's own made-up host (``https://mirror.harness.test/v2``)
is recorded and refused instead of reaching DNS (see ``tests/harness/containerd.py``).

Stock containerd 1.6 differs from the containerd K3s ships (a 1.7/2.x fork) in ways these tests
pin down: it ignores the ``rewrite`` table and it does not try https first for an ``http://``
host that has TLS settings. ``explain_pull`` models K3s's containerd, so for those two cases the
tests assert what the engine predicts for K3s *and* what stock 1.6 does instead.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from regui.k3s import explain_pull, generate_hosts
from tests.conftest import require_binary
from tests.harness.containerd import Containerd, PullResult, running_containerd
from tests.harness.oci import OCILayout, write_tiny_image
from tests.harness.registry import AccessEntry, Registry, plain_registry, tls_registry

pytestmark = pytest.mark.e2e

MIRROR = "mirror.harness.test"
TLS_MIRROR = "tls.harness.test"


# -- fixtures (module scope: one registry pair and one containerd for the whole file) ------------
@pytest.fixture(scope="module")
def binaries() -> dict[str, str]:
    names = ("docker-registry", "containerd", "ctr", "skopeo", "htpasswd")
    return {name: require_binary(name) for name in names}


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="rg-pulls-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def image(workdir: Path) -> OCILayout:
    return write_tiny_image(workdir / "tiny-oci", tag="v1")


@pytest.fixture(scope="module")
def plain(binaries, image) -> Iterator[Registry]:
    with plain_registry(binary=binaries["docker-registry"]) as reg:
        reg.push(image, "harness/tiny", skopeo=binaries["skopeo"])
        # only for the rewrite test: where stock containerd 1.6 goes, since it ignores `rewrite`
        reg.push(image, "library/tiny", skopeo=binaries["skopeo"])
        yield reg


@pytest.fixture(scope="module")
def tls(binaries, image) -> Iterator[Registry]:
    with tls_registry(binary=binaries["docker-registry"], htpasswd_bin=binaries["htpasswd"]) as reg:
        reg.push(image, "harness/tiny", skopeo=binaries["skopeo"])
        yield reg


@pytest.fixture(scope="module")
def containerd(binaries) -> Iterator[Containerd]:
    with running_containerd(binary=binaries["containerd"], ctr=binaries["ctr"]) as cd:
        yield cd


# -- helpers ----------------------------------------------------------------------------------
def write_hosts_dir(yaml_text: str, dest: Path) -> dict[str, str]:
    """Write every directory generate_hosts produced as ``dest/<name>/hosts.toml``."""
    result = generate_hosts(yaml_text, program="k3s")
    assert result.parse_error is None, result.parse_error
    dest.mkdir(parents=True)
    for name, text in result.hosts_dirs.items():
        (dest / name).mkdir()
        (dest / name / "hosts.toml").write_text(text)
    return result.hosts_dirs


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def manifest_requests(entries: list[AccessEntry]) -> list[AccessEntry]:
    return [e for e in entries if e.is_manifest]


def pull_and_log(cd: Containerd, reg: Registry, ref: str, hosts: Path,
                 user: str | None = None) -> tuple[PullResult, list[AccessEntry]]:
    mark = reg.mark()
    try:
        result = cd.pull(ref, hosts, user)
    finally:
        cd.remove_image(ref)
    return result, reg.entries_since(mark)


def failure(result: PullResult, reg: Registry, cd: Containerd) -> str:
    return (f"ctr {' '.join(result.args)} -> {result.returncode}\n{result.output[-3000:]}\n"
            f"proxied: {result.proxied}\n{reg.describe()}\n--- containerd\n{cd.describe()}")


def tls_yaml(reg: Registry, with_auth: bool = True) -> str:
    auth = f'    auth: {{username: "{reg.username}", password: "{reg.password}"}}\n' if with_auth else ""
    return (f'mirrors:\n  "{TLS_MIRROR}":\n    endpoint: ["{reg.url}"]\n'
            f'configs:\n  "{reg.host}":\n{auth}    tls: {{ca_file: "{reg.ca_path}"}}\n')


# -- tests ------------------------------------------------------------------------------------
def test_the_tiny_image_layout_is_byte_for_byte_reproducible():
    with tempfile.TemporaryDirectory(prefix="rg-oci-") as tmp:
        a = write_tiny_image(Path(tmp) / "a", arch="amd64")
        b = write_tiny_image(Path(tmp) / "b", arch="amd64")
        assert a.manifest == b.manifest and a.config == b.config and a.layer == b.layer
        assert (a.path / "index.json").read_bytes() == (b.path / "index.json").read_bytes()


def test_a_plain_http_mirror_is_pulled_first_from_the_url_explain_pull_puts_first(plain, containerd, workdir):
    yaml_text = f'mirrors:\n  "{MIRROR}":\n    endpoint: ["{plain.url}"]\n'
    ref = f"{MIRROR}/harness/tiny:v1"
    hosts = workdir / "hosts-plain"
    dirs = write_hosts_dir(yaml_text, hosts)
    explained = explain_pull(yaml_text, ref, program="k3s")
    assert explained.error is None and explained.hosts_dir == MIRROR and MIRROR in dirs
    first = explained.attempts[0]
    assert first.role == "mirror" and first.urls[0].startswith(plain.url + "/")

    result, entries = pull_and_log(containerd, plain, ref, hosts)

    assert result.ok, failure(result, plain, containerd)
    manifests = manifest_requests(entries)
    assert manifests, failure(result, plain, containerd)
    # containerd 1.6 resolves with HEAD; the method does not matter, the URL does (?ns= included)
    assert manifests[0].uri == path_and_query(first.urls[0]) == f"/v2/harness/tiny/manifests/v1?ns={MIRROR}"
    assert manifests[0].status == 200
    assert result.proxied == [], "the mirror answered, so nothing may fall back to the server entry"


def test_a_tls_htpasswd_mirror_is_pulled_with_the_credentials_the_engine_keyed_to_its_endpoint(
        tls, containerd, workdir):
    yaml_text = tls_yaml(tls)
    ref = f"{TLS_MIRROR}/harness/tiny:v1"
    hosts = workdir / "hosts-tls"
    dirs = write_hosts_dir(yaml_text, hosts)
    generated = generate_hosts(yaml_text, program="k3s")
    explained = explain_pull(yaml_text, ref, program="k3s")
    first = explained.attempts[0]
    assert explained.hosts_dir == TLS_MIRROR
    assert first.role == "mirror" and first.urls[0].startswith(tls.url + "/")
    assert first.tls.ca == [str(tls.ca_path)]
    assert f'ca = ["{tls.ca_path}"]' in dirs[TLS_MIRROR]
    assert "password" not in dirs[TLS_MIRROR] and tls.password not in "".join(dirs.values())
    # The engine keys the CRI credentials by the endpoint's host:port, which is the host containerd
    # contacts first. ctr 1.6 has no per-host credentials (it sends --user to every host that
    # asks), so the keying is proven by looking the credentials up under explain_pull's auth_key.
    assert first.auth_key == tls.host
    creds = generated.cri_auth[first.auth_key]
    user = f"{creds['username']}:{creds['password']}"

    result, entries = pull_and_log(containerd, tls, ref, hosts, user=user)

    assert result.ok, failure(result, tls, containerd)
    manifests = manifest_requests(entries)
    assert manifests[0].uri == path_and_query(first.urls[0]) == f"/v2/harness/tiny/manifests/v1?ns={TLS_MIRROR}"
    # the first try carries no credentials (401 + challenge), the retry with basic auth succeeds
    assert [e.status for e in manifests[:2]] == [401, 200]
    assert all(e.uri == manifests[0].uri for e in manifests[:2])
    assert result.proxied == []


def test_the_tls_mirror_refuses_a_pull_without_credentials_and_containerd_falls_back_to_the_server(
        tls, containerd, workdir):
    yaml_text = tls_yaml(tls)
    ref = f"{TLS_MIRROR}/harness/tiny:v1"
    hosts = workdir / "hosts-tls-noauth"
    write_hosts_dir(yaml_text, hosts)
    explained = explain_pull(yaml_text, ref, program="k3s")
    assert [a.role for a in explained.attempts] == ["mirror", "server"]

    result, entries = pull_and_log(containerd, tls, ref, hosts, user=None)

    assert not result.ok, failure(result, tls, containerd)
    assert "401 Unauthorized" in result.output, failure(result, tls, containerd)
    manifests = manifest_requests(entries)
    assert manifests and {e.status for e in manifests} == {401}, failure(result, tls, containerd)
    assert manifests[0].uri == path_and_query(explained.attempts[0].urls[0])
    # after the mirror's 401 containerd tries the next entry, the server K3s writes for the
    # registry's own name: explain_pull's second attempt (caught by the proxy sink, never sent)
    server = urlsplit(explained.attempts[1].urls[0])
    assert server.scheme == "https"
    assert result.proxied == [f"{server.hostname}:{server.port or 443}"]


def test_containerd_1_6_ignores_the_k3s_rewrite_table_that_explain_pull_applies(plain, containerd, workdir):
    """K3s's containerd fork applies ``[host."...".rewrite]`` (regexp on the repository) before
    requesting from a mirror, and explain_pull predicts exactly that (harness/tiny). Debian's
    containerd 1.6.20 is upstream containerd, which has no ``rewrite`` support: the table is
    accepted and silently ignored, and the mirror is asked for the original repository
    (library/tiny). Both repositories exist in the registry, so the pull succeeds either way and
    the access log alone shows which path containerd used."""
    yaml_text = (f'mirrors:\n  "{MIRROR}":\n    endpoint: ["{plain.url}"]\n'
                 '    rewrite:\n      "^library/(.*)": "harness/$1"\n')
    ref = f"{MIRROR}/library/tiny:v1"
    hosts = workdir / "hosts-rewrite"
    dirs = write_hosts_dir(yaml_text, hosts)
    assert '.rewrite]\n    "^library/(.*)" = "harness/$1"' in dirs[MIRROR]
    explained = explain_pull(yaml_text, ref, program="k3s")
    first = explained.attempts[0]
    assert first.rewritten_from == "library/tiny"
    assert path_and_query(first.urls[0]) == f"/v2/harness/tiny/manifests/v1?ns={MIRROR}"  # K3s's containerd

    result, entries = pull_and_log(containerd, plain, ref, hosts)

    assert result.ok, failure(result, plain, containerd)
    manifests = manifest_requests(entries)
    assert manifests[0].uri == f"/v2/library/tiny/manifests/v1?ns={MIRROR}"  # stock containerd 1.6
    assert not [e for e in entries if e.path.startswith("/v2/harness/")]
    assert result.proxied == []


def test_containerd_1_6_speaks_plain_http_to_a_configs_only_localhost_registry_where_k3s_tries_https(
        tls, containerd, workdir):
    """A ``configs`` entry for ``127.0.0.1:PORT`` with no mirror makes K3s write
    ``server = "http://127.0.0.1:PORT/v2"`` plus the CA (localhost defaults to http). K3s's
    containerd (1.7+) upgrades an http host with TLS settings on a port other than 80 to
    https-then-http, which explain_pull reports as ``https_first``. Stock containerd 1.6 does not:
    it sends plain HTTP to the TLS port and the registry answers 400 (Go's TLS server rejects it
    before routing, so the access log stays empty)."""
    yaml_text = tls_yaml(tls)
    ref = f"{tls.host}/harness/tiny:v1"
    hosts = workdir / "hosts-direct"
    dirs = write_hosts_dir(yaml_text, hosts)
    assert dirs[tls.host].splitlines()[1] == f'server = "http://{tls.host}/v2"'
    explained = explain_pull(yaml_text, ref, program="k3s")
    (only,) = explained.attempts
    assert only.role == "server" and only.https_first and only.auth_key == tls.host
    assert only.urls == [f"http://{tls.host}/v2/harness/tiny/manifests/v1"]

    result, entries = pull_and_log(containerd, tls, ref, hosts, user=tls.credentials)

    assert not result.ok and "400 Bad Request" in result.output, failure(result, tls, containerd)
    assert manifest_requests(entries) == []
    assert result.proxied == []
