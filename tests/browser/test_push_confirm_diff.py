"""A person in Chromium about to push sees what changes on the nodes as a diff that keeps the YAML's
indentation (the page once left out the stylesheet that lays diffs out, and the lines lost their
leading spaces)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BEFORE = "mirrors:\n  docker.io:\n    endpoint: [https://a.example.com]\n"
AFTER = "mirrors:\n  docker.io:\n    endpoint: [https://a.example.com, https://b.example.com]\n"


def test_the_push_plan_shows_the_change_with_its_indentation(logged_in, live_server):
    from regui.inventory.models import Node
    from regui.registries.importing import registries_import
    from regui.registries.models import Cluster

    cluster = Cluster.objects.create(name="prod", distro="k3s")
    registries_import(cluster=cluster, text=BEFORE, replace=True)
    Node.objects.create(
        cluster=cluster,
        name="a1",
        address="10.20.0.21",
        host_key="AAAA",
        host_key_type="ssh-ed25519",
        host_key_approved_at=timezone.now(),
        last_sha256=cluster.revisions.get().sha256,
    )
    registries_import(cluster=cluster, text=AFTER, replace=True)

    page = logged_in()
    page.goto(f"{live_server.url}/clusters/prod/push/confirm/?scope=all")
    added = page.locator("#push-changes table.diff tr.add td.code")
    expect(added).to_have_text("+      - https://b.example.com")
    assert added.evaluate("td => getComputedStyle(td).whiteSpace") == "pre-wrap"
