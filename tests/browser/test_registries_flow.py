"""A person in Chromium: secret, mirror with two endpoints and a rewrite, auth, live preview, save."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Sup3r-S3cret-Pw!"


def test_an_operator_configures_registries_like_in_rancher(logged_in, live_server):
    from regui.registries.models import Cluster, Mirror, RegistryConfig

    page = logged_in()
    Cluster.objects.create(name="prod", distro="k3s")

    page.goto(f"{live_server.url}/secrets/new/?kind=basic")
    page.select_option("#id_cluster", "prod")  # a secret is made for a cluster
    page.fill("#id_name", "harbor-robot")
    page.fill("#id_username", "robot$ci")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator(".msg.success")).to_contain_text("harbor-robot")

    page.goto(f"{live_server.url}/clusters/prod/")
    page.evaluate("window.__noReload = 'still here'")
    mirror = page.locator(".mirror-box").first
    mirror.get_by_label("Registry Hostname").fill("docker.io")
    mirror.locator(".endpoint-row input[type=text]").first.fill("https://mirror.example.com:5000")
    mirror.get_by_role("button", name="Add Endpoint").click()
    expect(mirror.locator(".endpoint-row")).to_have_count(2)
    mirror.locator(".endpoint-row input[type=text]").nth(1).fill("http://10.0.0.5:5000")
    mirror.get_by_role("button", name="Add Rewrite Config").click()
    mirror.get_by_label("Rewrite pattern").fill("^rancher/(.*)")
    mirror.get_by_label("Rewrite replacement").fill("mirrorproject/rancher-images/$1")

    preview = page.locator("#preview-yaml")
    expect(preview).to_contain_text("http://10.0.0.5:5000")
    expect(preview).to_contain_text('"^rancher/(.*)": "mirrorproject/rancher-images/$1"')

    config = page.locator(".config-box").first
    config.get_by_label("Registry Hostname").fill("mirror.example.com:5000")
    config.get_by_label("Authentication").select_option(label="harbor-robot (HTTP Basic Auth: robot$ci)")
    expect(preview).to_contain_text("<redacted: password of secret harbor-robot>")
    # Typing a new inline password: the preview changes, the password never appears.
    page.get_by_role("button", name="Add Registry").click()
    second = page.locator(".config-box").nth(1)
    second.get_by_label("Registry Hostname").fill("10.0.0.5:5000")
    second.get_by_label("Authentication").select_option(label="Create an HTTP Basic Auth Secret")
    second.get_by_label("Username").fill("inline-user")
    second.get_by_label("Password").fill(PASSWORD + "-2")
    expect(preview).to_contain_text("<redacted: password of secret (new)>")
    assert PASSWORD not in page.inner_text("body")
    assert PASSWORD not in page.locator("#preview").inner_html()
    assert page.evaluate("window.__noReload") == "still here", "the preview must not reload the page"

    # What K3s will make of it, live in the other tabs.
    page.locator("label[for=tab-hosts]").click()
    expect(page.locator("#preview-hosts")).to_contain_text('[host."https://mirror.example.com:5000/v2"]')
    page.locator("label[for=tab-explain]").click()
    page.fill("#explain-image", "rancher/pause:3.6")
    expect(page.locator("#preview-explain")).to_contain_text(
        "https://mirror.example.com:5000/v2/mirrorproject/rancher-images/pause/manifests/3.6?ns=docker.io")
    page.locator("label[for=tab-lint]").click()
    expect(page.locator("#preview-lint")).to_contain_text("restart-required")
    assert PASSWORD not in page.inner_text("body")
    page.locator("label[for=tab-yaml]").click()

    page.get_by_role("button", name="Save").click()
    expect(page.locator(".msg.success")).to_contain_text("saved")
    page.reload()
    mirror = page.locator(".mirror-box").first
    expect(mirror.get_by_label("Registry Hostname")).to_have_value("docker.io")
    expect(mirror.locator(".endpoint-row input[type=text]").nth(1)).to_have_value("http://10.0.0.5:5000")
    expect(mirror.get_by_label("Rewrite replacement")).to_have_value("mirrorproject/rancher-images/$1")
    assert PASSWORD not in page.content()
    assert Mirror.objects.get().endpoints == ["https://mirror.example.com:5000", "http://10.0.0.5:5000"]
    assert RegistryConfig.objects.count() == 2

    # An invalid endpoint: its error shows next to the field, and saving keeps the old data.
    endpoint = page.locator(".mirror-box .endpoint-row input[type=text]").first
    endpoint.fill("ftp://mirror.example.com")
    row = page.locator(".mirror-box .endpoint-row").first
    expect(row.locator(".field-error")).to_contain_text("Scheme “ftp” is not supported")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#save-summary")).to_contain_text("Nothing was saved")
    expect(endpoint).to_have_value("ftp://mirror.example.com")
    assert Mirror.objects.get().endpoints[0] == "https://mirror.example.com:5000"

    # Removing: the bad endpoint row and the second registry box go, the preview follows, and the
    # save keeps what is left.
    page.locator(".mirror-box .endpoint-row").first.get_by_role("button", name="Remove endpoint").click()
    expect(page.locator(".mirror-box .endpoint-row")).to_have_count(1)
    page.locator(".config-box").nth(1).get_by_role("button", name="Remove registry").click()
    expect(page.locator(".config-box")).to_have_count(1)
    page.wait_for_function(
        "() => { const t = document.querySelector('#preview-yaml').textContent;"
        " return !t.includes('ftp://') && t.split('redacted: password').length === 2; }")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".msg.success")).to_contain_text("saved")
    assert Mirror.objects.get().endpoints == ["http://10.0.0.5:5000"]
    assert list(RegistryConfig.objects.values_list("hostname", flat=True)) == ["mirror.example.com:5000"]
