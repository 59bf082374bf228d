"""A person in Chromium adds seed 003's Harbor proxy cache for five upstreams in one dialog, and an
air-gapped registry whose password goes from the dialog into the form, never to the recipe URL."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect

from tests.browser.test_content_security_policy import WATCH, violations

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEED_003 = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "seeds"
                           / "003-02-heredoc-harbor-proxy-cache-rewrites.yaml").read_text())
PASSWORD = "Air-Gap-Pw-7731"


def test_seed_003s_five_upstream_harbor_proxy_cache_takes_one_dialog(logged_in, live_server):
    from regui.registries.models import Cluster, Mirror

    page = logged_in()
    page.add_init_script(WATCH)  # the dialog works under the Content-Security-Policy
    Cluster.objects.create(name="prod", distro="k3s")
    page.goto(f"{live_server.url}/clusters/prod/")
    page.get_by_role("button", name="Add from a recipe").click()
    dialog = page.locator("#recipe-dialog")
    expect(dialog).to_be_visible()
    # The proxy cache is the first recipe; docker.io is ticked already.
    dialog.locator("#recipe-registry").fill("harbor.kingsd.top")
    for name in ("quay.io", "gcr.io", "ghcr.io"):
        dialog.get_by_label(name, exact=True).check()
    dialog.get_by_label("Others").fill("k8s.gcr.io")
    dialog.get_by_role("button", name="Add to the form").click()
    expect(dialog).to_be_hidden()

    preview = page.locator("#preview-yaml")
    expect(preview).to_contain_text('"(^.+$)": "k8s.gcr.io/$1"')
    assert yaml.safe_load(preview.inner_text()) == SEED_003
    assert Mirror.objects.count() == 0, "a recipe fills the form, it does not save"
    assert violations(page) == []

    page.get_by_role("button", name="Save").click()
    expect(page.locator("#save-done")).to_contain_text("saved")  # in place: the recipe's report stays, hidden
    assert sorted(Mirror.objects.values_list("hostname", flat=True)) == sorted(SEED_003["mirrors"])


def test_an_air_gapped_registry_gets_its_password_from_the_dialog_without_sending_it(logged_in, live_server):
    from regui.registries.models import Cluster, Secret

    page = logged_in()
    Cluster.objects.create(name="prod", distro="k3s")
    sent = []
    page.on("request", lambda r: sent.append(r.post_data or "") if "/registries/recipe/" in r.url else None)
    page.goto(f"{live_server.url}/clusters/prod/")
    page.get_by_role("button", name="Add from a recipe").click()
    dialog = page.locator("#recipe-dialog")
    dialog.get_by_label("Recipe").select_option("air-gapped")
    expect(dialog.get_by_label("Project of each upstream")).to_be_hidden()
    dialog.locator("#recipe-registry").fill("registry.example.com:5000")
    dialog.get_by_label("Authentication").select_option("create-basic")
    dialog.get_by_label("Username").fill("pull")
    dialog.get_by_label("Password").fill(PASSWORD)
    # A mistake first: the dialog stays open and says what is wrong.
    dialog.locator("#recipe-ca").fill("not a certificate")
    dialog.get_by_role("button", name="Add to the form").click()
    expect(dialog.locator("#recipe-errors")).to_contain_text("PEM")
    dialog.locator("#recipe-ca").fill("")
    dialog.get_by_role("button", name="Add to the form").click()
    expect(dialog).to_be_hidden()

    config = page.locator(".config-box").filter(has=page.locator("input[value='registry.example.com:5000']"))
    expect(config.get_by_label("Password")).to_have_value(PASSWORD)
    preview = page.locator("#preview-yaml")
    expect(preview).to_contain_text("<redacted: password of secret (new)>")
    assert sent and all(PASSWORD not in body for body in sent)
    assert PASSWORD not in page.inner_text("body")

    page.get_by_role("button", name="Save").click()
    expect(page.locator("#save-done")).to_contain_text("saved")  # in place: the recipe's report stays, hidden
    secret = Secret.objects.get()
    assert secret.name == "prod-registry-example-com-5000-auth" and secret.unseal() == {"password": PASSWORD}
