"""A file edited by hand on a node stays drifted at every later drift check (the drift watch checks
again every few minutes), and the later checks say so in words that fit: the file is unchanged since
regui last read it and is not the current render. They said it "holds a file regui has not written with
the current secret values", of a cluster with no secret, about a file a person had edited."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node

pytestmark = pytest.mark.django_db(transaction=True)

MAIN = "/etc/rancher/k3s/registries.yaml"


def test_a_hand_edited_file_checked_again_is_still_drifted_and_not_blamed_on_secret_values(fleet):
    fleet.add("agent")
    fleet.push()
    fleet["a1"].write(MAIN, b"# edited by hand\n")
    first = fleet.results(fleet.push(kind="drift"))["a1"]
    assert (first.status, first.message) == ("drifted", f"differs from what regui last wrote there: {MAIN}")
    again = fleet.results(fleet.push(kind="drift"))["a1"]
    assert again.status == "drifted"
    assert "secret" not in again.message
    assert again.message == ("still not the current render (unchanged since regui last read it): "
                             "a push writes the current render")
    assert Node.objects.get(name="a1").sync_state == "drifted"
