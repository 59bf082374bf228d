"""A cluster switched from K3s to RKE2 (or back) has its file at another path: no node is known to hold
it there, so each shows "never pushed", and the confirmation plans to write it. The nodes kept their
K3s state: "in sync", "no change (already this file)", "Expected restarts: 0", and a person who
believed it never pushed, leaving RKE2 without its registries.yaml."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(cluster):
    return Node.objects.create(cluster=cluster, name="a1", address="10.20.0.21", sync_state=Node.Sync.IN_SYNC,
                               last_sha256="ab" * 32, last_sync_key="cd" * 32, last_message="wrote it")


def edit(client, cluster, distro: str) -> None:
    r = client.post(f"/clusters/{cluster.name}/edit/", {"name": cluster.name, "distro": distro})
    assert r.status_code == 302


def test_switching_the_distro_makes_every_node_never_pushed(operator_client, cluster, pushed):
    edit(operator_client, cluster, "rke2")
    pushed.refresh_from_db()
    assert pushed.sync_state == Node.Sync.NEVER and pushed.last_sha256 == "" and pushed.last_sync_key == ""


def test_the_confirmation_then_plans_to_write_the_file_at_its_new_path(operator_client, cluster, pushed):
    edit(operator_client, cluster, "rke2")
    page = operator_client.get(f"/clusters/{cluster.name}/push/confirm/?scope=all").content.decode()
    assert "/etc/rancher/rke2/registries.yaml" in page and "already this file" not in page


def test_an_edit_that_keeps_the_distro_keeps_what_regui_knows_of_the_nodes(operator_client, cluster, pushed):
    edit(operator_client, cluster, cluster.distro)
    pushed.refresh_from_db()
    assert pushed.sync_state == Node.Sync.IN_SYNC and pushed.last_sync_key == "cd" * 32
