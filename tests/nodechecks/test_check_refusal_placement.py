"""A refused pull test says why under its own form, where the person who pressed "Test a pull" is
looking: at the top of the card it was a screen above the button, while the last test's result stayed
under it, as if the new one had failed that way. A refused read-back still says so at the top."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from regui.registries.models import Cluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def node(db):
    cluster = Cluster.objects.create(name="prod", distro="k3s")
    return Node.objects.create(cluster=cluster, name="a1", address="10.20.0.21")


def checks_card(operator_client, node, what: str, data: dict | None = None) -> str:
    r = operator_client.post(f"/clusters/prod/nodes/{node.pk}/checks/{what}/", data or {}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400
    return r.content.decode()


def test_a_refused_pull_test_says_why_under_its_form(operator_client, node):
    card = checks_card(operator_client, node, "pull", {"image": "not an image!", "tool": "auto"})
    error = card.index('id="check-error"')
    assert "Nothing was pulled: Not an image reference" in card
    assert card.index("Test a pull</button>") < error < card.index('id="pull-block"')


def test_a_pull_test_refused_by_the_node_says_why_under_its_form_too(operator_client, node):
    card = checks_card(operator_client, node, "pull", {"image": "busybox:1.36", "tool": "auto"})
    assert "Nothing was pulled:" in card
    assert card.index("Test a pull</button>") < card.index('id="check-error"')


def test_a_refused_read_back_says_why_at_the_top_of_the_card(operator_client, node):
    card = checks_card(operator_client, node, "readback")
    assert "Nothing was read:" in card and card.index('id="check-error"') < card.index("Registry flags")
