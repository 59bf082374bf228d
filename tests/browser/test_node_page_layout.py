"""The node page at a common laptop width (1280 px): the "Recent pushes" table stays inside its card,
even with a long failure message (a path or a URL without spaces)."""

from __future__ import annotations

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_recent_pushes_table_stays_inside_its_card_at_1280_px(logged_in, live_server):
    from regui.inventory.models import Node
    from regui.pushes.models import PushJob, PushResult
    from regui.registries.models import Cluster

    cluster = Cluster.objects.create(name="prod", distro="k3s")
    node = Node.objects.create(cluster=cluster, name="agent-with-a-rather-long-name-01", address="10.20.0.21")
    for status, message in (("failed", "open /etc/rancher/k3s/registries.yaml.regui-tmp-" + "x" * 90 + ": permission denied"),
                            ("changed", "written and restarted k3s-agent.service after 12.3 s")):
        job = PushJob.objects.create(cluster=cluster, status="failed")
        PushResult.objects.create(job=job, node=node, node_name=node.name, role="agent", status=status,
                                  message=message, restarted=True, finished_at=timezone.now())
    page = logged_in()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/clusters/prod/nodes/{node.pk}/")
    card = page.locator("section.card", has=page.get_by_role("heading", name="Recent pushes"))
    table = card.locator("table")
    card_box, table_box = card.bounding_box(), table.bounding_box()
    assert card_box and table_box
    assert table_box["x"] + table_box["width"] <= card_box["x"] + card_box["width"] + 0.5
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 1280  # and the page itself does not scroll sideways
