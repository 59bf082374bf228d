"""The export says which files registries.yaml names but does not contain, and an admin downloads
the file with regui's own TLS files as a tar (issue 11 part 16)."""

from __future__ import annotations

import io
import tarfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from regui.audit.models import AuditEvent
from regui.registries.models import Cluster, RegistryConfig
from regui.registries.selectors import cluster_render
from regui.registries.services import SecretInput, secret_save
from tests.certs import key_and_cert

pytestmark = pytest.mark.django_db

BASE = "/var/lib/rancher/k3s/etc/tls/registries/reg.example.com"


@pytest.fixture
def with_tls(cluster):
    """A cluster whose registry has regui's CA bundle and TLS secret, and another with a node path."""
    key, cert = key_and_cert("reg.example.com")
    tls = secret_save(data=SecretInput(name="client", kind="tls", certificate=cert, private_key=key, cluster=cluster))
    RegistryConfig.objects.create(cluster=cluster, position=0, hostname="reg.example.com", tls_secret=tls,
                                  ca_bundle=cert)
    RegistryConfig.objects.create(cluster=cluster, position=1, hostname="other.example.com",
                                  ca_file="/etc/ssl/other-ca.pem")
    return cluster, key, cert


def members(data: bytes) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: (m, tar.extractfile(m).read()) for m in tar.getmembers()}


def test_the_tar_holds_the_file_and_regui_tls_files_at_their_node_paths_0600(admin_client, with_tls):
    cluster, key, cert = with_tls
    r = admin_client.get(f"/clusters/{cluster.name}/registries.tar")
    assert r.status_code == 200 and r["Content-Type"] == "application/x-tar"
    assert r["Content-Disposition"] == 'attachment; filename="prod-registries.tar"'
    assert r["Cache-Control"] == "no-store"
    got = members(r.content)
    assert list(got) == ["etc/rancher/k3s/registries.yaml", f"{BASE[1:]}/ca.crt", f"{BASE[1:]}/tls.crt",
                         f"{BASE[1:]}/tls.key"]
    assert got["etc/rancher/k3s/registries.yaml"][1].decode() == cluster_render(cluster, reveal=True)
    assert got[f"{BASE[1:]}/tls.key"][1] == key.encode() and got[f"{BASE[1:]}/tls.crt"][1] == cert.encode()
    for info, _ in got.values():
        assert (info.isfile(), info.mode, info.uid, info.gid, info.uname) == (True, 0o600, 0, 0, "root")
    # The node's own files are named by the file, never in the tar: regui does not have them.
    assert not any("other-ca.pem" in name for name in got)


def test_the_tar_download_is_recorded_in_history(admin_client, with_tls):
    cluster, _, _ = with_tls
    admin_client.get(f"/clusters/{cluster.name}/registries.tar")
    entry = AuditEvent.objects.get(action="download")
    assert entry.actor_name == "alice" and entry.cluster_name == "prod" and ".tar" in entry.message
    assert entry.changes["files"][1][0] == "etc/rancher/k3s/registries.yaml"


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_viewers_and_operators_get_neither_the_tar_nor_the_download_page(request, who, with_tls):
    client = request.getfixturevalue(who)
    assert client.get("/clusters/prod/registries.tar").status_code == 403
    assert client.get("/clusters/prod/download/").status_code == 403
    assert not AuditEvent.objects.filter(action="download").exists()


def test_the_download_page_says_which_files_are_in_which_download(admin_client, with_tls):
    html = admin_client.get("/clusters/prod/download/").content.decode()
    assert f"{BASE}/tls.key" in html and "/etc/ssl/other-ca.pem" in html
    assert "configs.other.example.com.tls.ca_file" in html and "regui neither keeps nor pushes it" in html
    assert "Download with TLS files (.tar)" in html and 'id="download-note"' in html
    assert "BEGIN" not in html, "paths only, never a value"
    assert not AuditEvent.objects.filter(action="download").exists(), "looking is not downloading"


def test_export_registries_keeps_stdout_the_exact_file_and_names_the_missing_files_on_stderr(with_tls):
    cluster, _, _ = with_tls
    out, err = io.StringIO(), io.StringIO()
    call_command("export_registries", "--cluster", "prod", stdout=out, stderr=err)
    assert out.getvalue() == cluster_render(cluster, reveal=True)
    notes = err.getvalue()
    assert "configs.other.example.com.tls.ca_file: /etc/ssl/other-ca.pem is not in the export" in notes
    assert f"{BASE}/tls.key (private key of secret client) is not in registries.yaml" in notes
    assert "pushes it beside the file" in notes


def test_export_registries_without_tls_files_says_nothing_more(cluster):
    err = io.StringIO()
    call_command("export_registries", "--cluster", "prod", stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""


def test_export_registries_tar_writes_a_0600_tar_and_records_it(with_tls, tmp_path):
    target = tmp_path / "out.tar"
    target.write_bytes(b"old")
    target.chmod(0o644)
    err = io.StringIO()
    call_command("export_registries", "--cluster", "prod", "--tar", str(target), stdout=io.StringIO(), stderr=err)
    assert target.stat().st_mode & 0o777 == 0o600
    assert len(members(target.read_bytes())) == 4 and f"wrote {target}" in err.getvalue()
    assert AuditEvent.objects.get(action="download").message == "export_registries --tar"


def test_export_registries_refuses_a_redacted_tar(with_tls, tmp_path):
    with pytest.raises(CommandError, match="leave out --redacted"):
        call_command("export_registries", "--cluster", "prod", "--redacted", "--tar", str(tmp_path / "x.tar"),
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert not (tmp_path / "x.tar").exists()


def test_an_rke2_tar_uses_rke2_paths(admin_client, db):
    cluster = Cluster.objects.create(name="edge", distro="rke2")
    _, cert = key_and_cert("r.example.com")
    RegistryConfig.objects.create(cluster=cluster, hostname="*", ca_bundle=cert)
    got = members(admin_client.get("/clusters/edge/registries.tar").content)
    assert list(got) == ["etc/rancher/rke2/registries.yaml",
                         "var/lib/rancher/rke2/etc/tls/registries/_default/ca.crt"]
