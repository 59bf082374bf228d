"""The page that rotates a shared credential says who must have the new value first: the first 10 nodes
that use it, by cluster and name, with a count of the rest ("and 190 more" for a key of 200 nodes; it
listed every node in one paragraph), and the jump hosts that log in with it, which it did not name."""

from __future__ import annotations

import pytest

from regui.inventory.credentials.models import NodeCredential
from regui.inventory.credentials.services import credential_create
from regui.inventory.jumphosts.models import JumpHost
from regui.inventory.models import Node

pytestmark = pytest.mark.django_db

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nshared page key\n-----END OPENSSH PRIVATE KEY-----\n"


@pytest.fixture
def shared(make_user):
    return credential_create(user=make_user("root-admin", "admin"), name="fleet", kind="key", value=KEY)


def use_on(shared, cluster, count):
    nodes = Node.objects.bulk_create(Node(cluster=cluster, name=f"n{i:03d}", address=f"10.0.{i // 200}.{i % 200 + 1}")
                                     for i in range(count))
    NodeCredential.objects.bulk_create(NodeCredential(node=n, credential=shared) for n in nodes)


def test_a_credential_of_200_nodes_names_10_and_counts_the_rest(admin_client, shared, cluster):
    use_on(shared, cluster, 200)
    page = admin_client.get("/ssh-credentials/fleet/rotate/").content.decode()
    assert "used by 200 nodes" in page
    assert "prod/n000, prod/n001" in page and "prod/n009 and 190 more" in page
    assert "prod/n010" not in page


def test_a_few_nodes_are_all_named(admin_client, shared, cluster):
    use_on(shared, cluster, 2)
    page = admin_client.get("/ssh-credentials/fleet/rotate/").content.decode()
    assert "used by 2 nodes" in page and "prod/n000, prod/n001." in page and "more" not in page


def test_the_jump_hosts_that_log_in_with_it_are_named(admin_client, shared, cluster):
    use_on(shared, cluster, 1)
    JumpHost.objects.create(name="bastion-1", address="10.0.9.1", port=22, ssh_user="jump", credential=shared)
    page = admin_client.get("/ssh-credentials/fleet/rotate/").content.decode()
    assert "used by 1 node" in page and "and by jump host bastion-1" in page
