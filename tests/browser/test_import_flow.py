"""A person in Chromium imports registries.yaml: a mis-indented copy of seed 002 is refused with the
reason, naming RKE2; the real one shows what it changes (Back gives the form back as filled in), and
nothing is saved until Import."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEED_002 = (Path(__file__).resolve().parents[1] / "data" / "seeds"
            / "002-01-mirrors-dockerio-and-named-registry.yaml").read_text()
FLAT_002 = "\n".join(line.strip() for line in SEED_002.splitlines()) + "\n"


def test_an_import_is_refused_with_the_reason_then_previewed_then_confirmed(logged_in, live_server):
    from regui.registries.models import Cluster, Mirror

    page = logged_in()
    Cluster.objects.create(name="edge", distro="rke2")
    page.goto(f"{live_server.url}/clusters/edge/")
    page.get_by_role("link", name="Import registries.yaml").click()

    page.get_by_label("registries.yaml").fill(FLAT_002)
    page.get_by_role("button", name="Preview the import").click()
    error = page.locator("#import-error")
    expect(error).to_contain_text("RKE2 reads no registry from this file")
    expect(error).to_contain_text("docker.io, endpoint, registry.example.com")
    assert "K3s" not in error.inner_text()

    page.get_by_label("registries.yaml").fill(SEED_002)
    page.get_by_role("button", name="Preview the import").click()
    changes = page.locator("#import-changes")
    expect(changes).to_contain_text("Mirror docker.io added")
    expect(changes).to_contain_text("Mirror registry.example.com added")
    expect(page.locator("#diff tr.add").first).to_be_visible()
    expect(page.locator("#diff")).to_contain_text("https://registry.example.com:5000")
    assert not Mirror.objects.exists()
    # Back gives the form back as it was filled in, to be changed and previewed again.
    page.get_by_role("link", name="Back").click()
    expect(page.get_by_label("registries.yaml")).to_have_value(SEED_002)
    page.get_by_role("button", name="Preview the import").click()

    page.get_by_label("Note for the history").fill("from the RKE2 guide")
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".msg.success")).to_contain_text("Imported 2 mirror(s)")
    expect(page).to_have_url(f"{live_server.url}/clusters/edge/")
    assert sorted(Mirror.objects.values_list("hostname", flat=True)) == ["docker.io", "registry.example.com"]
    assert Cluster.objects.get().revisions.get().message == "from the RKE2 guide"
