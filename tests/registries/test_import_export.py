"""Import then export: every seed example and every spec vector means the same to K3s afterwards."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from regui.k3s import generate_hosts, parse_registries
from regui.registries.models import Cluster, Mirror, RegistryConfig, Secret
from tests.pages import confirm_import

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "data"
SEEDS = sorted((DATA / "seeds").glob("*.yaml"))
VECTORS = yaml.safe_load((Path(__file__).resolve().parents[1] / "k3s" / "data" / "k3s-hosts-cases.yaml").read_text())


def _import(path_or_text, cluster="c1", *extra) -> str:
    if isinstance(path_or_text, str):
        path = Path(_write(path_or_text))
    else:
        path = path_or_text
    out = io.StringIO()
    call_command("import_registries", str(path), "--cluster", cluster, *extra, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _write(text: str) -> str:
    path = Path("/tmp") / f"regui-import-{os.getpid()}.yaml"
    path.write_text(text)
    return str(path)


def _export(cluster="c1", *extra) -> str:
    out = io.StringIO()
    call_command("export_registries", "--cluster", cluster, *extra, stdout=out)
    return out.getvalue()


def _same_to_k3s(original: str, exported: str, **flags) -> None:
    a, b = generate_hosts(original, **flags), generate_hosts(exported, **flags)
    assert b.parse_error is None
    assert b.hosts_dirs == a.hosts_dirs
    assert b.cri_auth == a.cri_auth


def test_there_are_seed_examples():
    assert len(SEEDS) >= 30


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_every_seed_example_imports_and_exports_to_the_same_k3s_config(seed):
    text = seed.read_text()
    verdict = generate_hosts(text)
    if verdict.parse_error:
        # K3s itself refuses these (e.g. the schema block with placeholders): so does the import.
        with pytest.raises(CommandError, match="K3s would refuse this file"):
            _import(seed)
        assert not Mirror.objects.exists() and not Secret.objects.exists()
        return
    _import(seed)
    exported = _export()
    _same_to_k3s(text, exported)
    for program in ("k3s", "rke2"):
        _same_to_k3s(text, exported, program=program, embedded_registry=True)


CASES = [c for c in VECTORS if not c["expected"].get("parse_error")]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_every_spec_vector_round_trips(case):
    text = case["input"]["registries_yaml"]
    flags = case["input"].get("flags") or {}
    kwargs = {"program": case["input"].get("program", "k3s"),
              "disable_default_endpoint": flags.get("disable_default_registry_endpoint", False),
              "embedded_registry": flags.get("embedded_registry", False)}
    err = io.StringIO()
    call_command("import_registries", _write(text), "--cluster", "c1", stdout=io.StringIO(), stderr=err)
    rewrites = [kv for m in parse_registries(text).mirrors.values() for kv in m.rewrites.items()]
    if any("\\" in p + r or '"' in p + r for p, r in rewrites):
        # K3s writes an invalid hosts.toml for these: imported as they are, and the import says so.
        assert "hosts.toml" in err.getvalue()
    _same_to_k3s(text, _export(), **kwargs)


def test_inline_credentials_become_secrets_and_the_redacted_export_hides_them():
    _import('configs:\n  "reg.example.com:5000":\n    auth:\n      username: robot\n      password: "0123"\n'
            '  "tok.example.com":\n    auth:\n      identity_token: "eyJ-secret-token"\n')
    basic = Secret.objects.get(kind="basic")
    assert basic.username == "robot" and basic.unseal() == {"password": "0123"}
    assert Secret.objects.get(kind="rke_auth").unseal() == {"identity_token": "eyJ-secret-token"}
    redacted = _export("c1", "--redacted")
    assert "eyJ-secret-token" not in redacted and '"0123"' not in redacted
    assert 'password: "0123"' in _export()


def test_keys_k3s_ignores_are_listed_in_a_warning():
    err = io.StringIO()
    path = Path("/tmp/regui-ignored.yaml")
    path.write_text("mirrors:\n  docker.io:\n    endpoints: [https://x.example.com]\nconfigs:\n"
                    "  h.example.com:\n    auth:\n      token: abc\n")
    call_command("import_registries", str(path), "--cluster", "c1", stdout=io.StringIO(), stderr=err)
    assert "mirrors.docker.io.endpoints" in err.getvalue()
    assert "configs.h.example.com.auth.token" in err.getvalue()


def test_invalid_yaml_gives_the_line_and_saves_nothing():
    with pytest.raises(CommandError) as exc:
        _import("mirrors:\n  docker.io:\n    endpoint: https://not-a-list\n")
    assert "line 3" in str(exc.value)
    with pytest.raises(CommandError, match="line"):
        _import("mirrors:\n\tdocker.io: {}\n")
    assert not Cluster.objects.filter(name="c1").exists(), "a refused import creates no cluster"


def test_a_refused_import_changes_no_distro_and_an_accepted_one_records_it():
    from regui.audit.models import AuditEvent

    _import("mirrors:\n  docker.io:\n    endpoint: [https://a.example.com]\n")
    with pytest.raises(CommandError):
        _import("mirrors:\n\tdocker.io: {}\n", "c1", "--distro", "rke2")
    assert Cluster.objects.get(name="c1").distro == "k3s"
    _import("mirrors:\n  docker.io:\n    endpoint: [https://a.example.com]\n", "c1", "--distro", "rke2")
    assert Cluster.objects.get(name="c1").distro == "rke2"
    entry = AuditEvent.objects.get(action="update", object_type="cluster")
    assert entry.changes == {"distro": ["k3s", "rke2"]} and "--distro" in entry.message


ACCEPTED_BY_K3S = {
    "a duplicate endpoint": ("mirrors:\n  docker.io:\n    endpoint: [https://m.example.com, https://m.example.com/v2]\n",
                             "mirrors.docker.io.endpoint[1]"),
    "a group the pattern lacks": ('mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n'
                                  '    rewrite:\n      "^(.*)$": "lib/$3"\n', "group 3"),
    "a relative ca_file": ('configs:\n  m.example.com:\n    tls:\n      ca_file: certs/ca.pem\n', "absolute path"),
    "an endpoint Python's URL parser rejects": ("mirrors:\n  docker.io:\n    endpoint: ['[']\n",
                                                "mirrors.docker.io.endpoint[0]"),
    "an unsupported scheme": ("mirrors:\n  docker.io:\n    endpoint: [https://ok.example.com, 'ftp://bad']\n",
                              "mirrors.docker.io.endpoint[1]"),
}


@pytest.mark.parametrize("name", ACCEPTED_BY_K3S)
def test_a_file_k3s_accepts_imports_as_it_is_and_lists_what_to_fix(name):
    text, problem = ACCEPTED_BY_K3S[name]
    err = io.StringIO()
    call_command("import_registries", _write(text), "--cluster", "c1", stdout=io.StringIO(), stderr=err)
    assert problem in err.getvalue()
    _same_to_k3s(text, _export())


def test_the_registries_page_shows_what_an_import_let_through(client, make_user):
    _import(ACCEPTED_BY_K3S["a relative ca_file"][0])
    cluster = Cluster.objects.get(name="c1")
    client.force_login(make_user("olivia", "operator"))
    html = client.get(f"/clusters/{cluster.name}/").content.decode()
    assert "certs/ca.pem" in html and "imported as they were" in html
    assert "Give an absolute path on the node." in html


def test_credentials_in_an_endpoint_url_are_refused_and_not_echoed():
    with pytest.raises(CommandError) as exc:
        _import("mirrors:\n  docker.io:\n    endpoint: [https://ok.example.com, 'https://u:hunter2@m.example.com']\n"
                "configs:\n  ok.example.com:\n    auth: {username: u, password: p}\n")
    assert "mirrors.docker.io.endpoint[1]" in str(exc.value) and "hunter2" not in str(exc.value)
    assert not Mirror.objects.exists() and not Secret.objects.exists() and not RegistryConfig.objects.exists()


def test_replace_drops_entries_the_file_does_not_list_and_merge_keeps_them():
    _import("mirrors:\n  docker.io:\n    endpoint: [https://a.example.com]\n")
    _import("mirrors:\n  quay.io:\n    endpoint: [https://q.example.com]\n")
    assert sorted(Mirror.objects.values_list("hostname", flat=True)) == ["docker.io", "quay.io"]
    _import("mirrors:\n  ghcr.io: {}\n", "c1", "--replace")
    assert list(Mirror.objects.values_list("hostname", flat=True)) == ["ghcr.io"]


def test_export_of_an_unknown_cluster_is_a_clear_error():
    with pytest.raises(CommandError, match="no cluster named"):
        _export("nope")


def test_the_import_page_shows_the_reason_and_saves_nothing(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": "mirrors:\n  docker.io:\n    endpoint: x\n"})
    assert r.status_code == 400 and "line 3" in r.content.decode()
    preview = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": "mirrors:\n  docker.io: {}\n"})
    assert preview.status_code == 200 and not Mirror.objects.exists(), "the first step only shows the change"
    ok = confirm_import(operator_client, cluster.name, preview)
    assert ok.status_code == 302 and Mirror.objects.get().hostname == "docker.io"


@pytest.mark.parametrize("text, detail", [
    ("mirrors:\n  docker.io:\n    endpoint: ['']\n", "an empty endpoint"),
    ("mirrors:\n  '':\n    endpoint: [https://m.example.com]\n", "an empty registry name"),
    ('mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n    rewrite:\n      "": "x/$1"\n',
     "an empty pattern"),
    (f"mirrors:\n  {'a' * 300}.example.com: {{}}\n", "longer than 262"),
    ('configs:\n  m.example.com:\n    auth: {username: "u\\0x", password: p}\n', "NUL"),
])
def test_values_regui_cannot_keep_as_they_are_are_refused_with_the_reason(text, detail):
    with pytest.raises(CommandError) as exc:
        _import(text)
    assert detail in str(exc.value)
    assert not Mirror.objects.exists() and not Secret.objects.exists() and not RegistryConfig.objects.exists()
