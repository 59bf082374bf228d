"""A person in Chromium who needs a client certificate for a registry goes from the TLS Secret field to
the new TLS secret's form and back: the secret is the cluster's, the Registries page offers the edits
typed before leaving, and the new secret is a choice of the field. Server side:
tests/registries/test_tls_secret_from_the_page.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.certs import key_and_cert

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ENDPOINT = "https://typed-before.example.com"


def test_it_creates_a_tls_secret_from_the_field_and_comes_back_to_the_edits(logged_in, live_server):
    from regui.registries.models import Cluster, Secret

    Cluster.objects.create(name="prod", distro="k3s")
    page = logged_in()
    page.goto(f"{live_server.url}/clusters/prod/")
    page.locator(".mirror-box").first.get_by_label("Registry Hostname").fill("docker.io")
    page.locator(".mirror-box .endpoint-row input[type=text]").first.fill(ENDPOINT)
    # The page keeps the edits on the server a moment after a change; leaving asks first.
    expect(page.locator("#preview-yaml")).to_contain_text(ENDPOINT)
    page.wait_for_timeout(2500)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(".config-box").first.get_by_role("link", name="Create a TLS secret").click()
    expect(page).to_have_url(re.compile(r"/secrets/new/\?kind=tls&cluster=prod&next=/clusters/prod/$"))
    expect(page.get_by_label("Cluster")).to_have_value("prod")

    key, cert = key_and_cert("client.test")
    page.fill("input[name=name]", "prod-client")
    page.fill("textarea[name=private_key]", key)
    page.fill("textarea[name=certificate]", cert)
    page.get_by_role("button", name="Create").click()

    expect(page).to_have_url(f"{live_server.url}/clusters/prod/")
    expect(page.locator(".msg.success").first).to_contain_text("Secret prod-client saved.")
    page.get_by_role("button", name=re.compile("Restore your unsaved edits")).click()
    expect(page.locator(".mirror-box .endpoint-row input[type=text]").first).to_have_value(ENDPOINT)
    tls = page.locator(".config-box").first.get_by_label("TLS Secret")
    tls.select_option(label="prod-client (TLS Certificate)")
    assert Secret.objects.get(name="prod-client").cluster.name == "prod"
