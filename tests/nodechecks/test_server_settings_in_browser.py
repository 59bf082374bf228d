"""A person in Chromium reads the cluster's settings from a server (a fake node, tests/fakes/) on the
Registries page, applies what differs, and the hosts.toml preview follows without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.fakes.k3s import write_config
from tests.fakes.kubectl import set_cluster_ip

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_reads_the_settings_applies_the_differences_and_the_preview_puts_the_registry_at_ipv6_loopback(
        checks, logged_in, live_server):
    checks.add("server")
    set_cluster_ip(checks["s1"], "fd00:43::1")
    write_config(checks["s1"], "embedded-registry: true\n")
    page = logged_in("otto", "operator")
    page.goto(f"{live_server.url}/clusters/{checks.cluster.name}/")
    page.locator("label[for=tab-hosts]").click()
    expect(page.locator("#preview-hosts")).to_contain_text("certs.d/docker.io/hosts.toml")
    expect(page.locator("#preview-hosts")).not_to_contain_text("[::1]:6443")

    page.get_by_role("button", name="Read settings from a server").click()
    expect(page.locator("#server-settings-status")).to_contain_text("read", timeout=15_000)
    expect(page.locator('#server-settings-table tr[data-differs="1"]')).to_have_count(2)
    page.locator("#server-settings-apply").click()
    expect(page.locator("#server-settings-applied")).to_contain_text(
        "Applied: Service network is IPv6 first on, --embedded-registry on.")
    expect(page.locator("#preview-flags input[name=flag_ipv6]")).to_be_checked()
    expect(page.locator("#preview-flags input[name=flag_embedded]")).to_be_checked()
    expect(page.locator("#preview-hosts")).to_contain_text("https://[::1]:6443/v2")
    expect(page.locator('#server-settings-table tr[data-differs="1"]')).to_have_count(0)


def test_a_refused_read_answers_400_and_its_reason_shows_in_the_section(checks, logged_in, live_server):
    checks.add("agent")  # no server: nothing may be read
    page = logged_in("otto", "operator")
    page.goto(f"{live_server.url}/clusters/{checks.cluster.name}/")
    with page.expect_response(lambda r: r.url.endswith("/server-settings/read/")) as answer:
        page.get_by_role("button", name="Read settings from a server").click()
    assert answer.value.status == 400
    expect(page.locator("#server-settings-error")).to_contain_text(
        "Nothing was read: the cluster has no server node")
    expect(page.locator("#request-alert")).to_be_hidden()
