"""A person in Chromium: an operator deletes a cluster from its tabs by typing its name; an admin
downloads the file with its TLS files as a tar, after a page that says what each download holds."""

from __future__ import annotations

import io
import tarfile

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_operator_deletes_a_cluster_by_typing_its_name(logged_in, live_server):
    from regui.audit.models import AuditEvent
    from regui.registries.models import Cluster

    page = logged_in()
    Cluster.objects.create(name="old-site", distro="k3s")
    page.goto(f"{live_server.url}/clusters/old-site/")
    page.get_by_role("link", name="Delete cluster").click()
    field = page.get_by_label("Type the cluster's name to confirm")
    field.fill("old-sit")
    page.get_by_role("button", name="Delete old-site").click()
    expect(page.locator(".field-error")).to_contain_text("type old-site exactly")
    assert Cluster.objects.filter(name="old-site").exists()
    page.get_by_label("Type the cluster's name to confirm").fill("old-site")
    page.get_by_role("button", name="Delete old-site").click()
    expect(page.locator(".msg.success")).to_contain_text("Cluster old-site deleted.")
    assert not Cluster.objects.exists()
    assert AuditEvent.objects.filter(object_type="cluster", action="delete", actor_name="olivia").exists()


def test_an_admin_downloads_the_file_with_its_tls_files(logged_in, live_server):
    from regui.registries.models import Cluster, RegistryConfig
    from tests.certs import key_and_cert

    page = logged_in("ada", "admin")
    cluster = Cluster.objects.create(name="prod", distro="k3s")
    _, cert = key_and_cert("reg.example.com")
    RegistryConfig.objects.create(cluster=cluster, hostname="reg.example.com", ca_bundle=cert)
    RegistryConfig.objects.create(cluster=cluster, position=1, hostname="n.example.com", ca_file="/etc/ssl/n.pem")
    page.goto(f"{live_server.url}/clusters/prod/")
    page.locator("#nav-download").click()
    files = page.locator("#download-files")
    expect(files).to_contain_text("/var/lib/rancher/k3s/etc/tls/registries/reg.example.com/ca.crt")
    expect(files.locator("tr.on-node")).to_contain_text("/etc/ssl/n.pem")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download with TLS files (.tar)").click()
    download = info.value
    assert download.suggested_filename == "prod-registries.tar"
    with tarfile.open(fileobj=io.BytesIO(open(download.path(), "rb").read())) as tar:
        assert tar.getnames() == ["etc/rancher/k3s/registries.yaml",
                                  "var/lib/rancher/k3s/etc/tls/registries/reg.example.com/ca.crt"]
