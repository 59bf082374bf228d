"""A person in Chromium imports nodes from an inventory that puts its host in no server or agent group:
the preview has nothing to add, and "Back to the inventory" brings the pasted text back to be
corrected (the preview once had no way back at all); from a preview with nodes, Back does the same."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WRONG = "[web]\n10.0.0.1\n"
RIGHT = "[agent]\n10.0.0.1\n"


def test_a_preview_goes_back_to_the_inventory_as_pasted(logged_in, live_server):
    from regui.registries.models import Cluster

    Cluster.objects.create(name="prod", distro="k3s")
    page = logged_in()
    page.goto(f"{live_server.url}/clusters/prod/nodes/import-inventory/")
    inventory = page.get_by_label("Inventory")
    inventory.fill(WRONG)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#import-problems")).to_contain_text("in no server or agent group (web)")

    page.get_by_role("button", name="Back to the inventory").click()
    expect(inventory).to_have_value(WRONG)
    inventory.fill(RIGHT)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("button", name="Add 1 node(s)")).to_be_visible()

    page.get_by_role("button", name="Back", exact=True).click()
    expect(inventory).to_have_value(RIGHT)
