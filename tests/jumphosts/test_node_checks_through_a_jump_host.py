"""Node checks (the hosts.toml read-back) reach a node through its jump host like a push does; a shared
credential that a jump host logs in with is not deleted from under it."""

from __future__ import annotations

import pytest

from regui.inventory.credentials.services import CredentialError, credential_delete
from regui.nodechecks.models import HostsReadback
from regui.registries.selectors import cluster_render
from tests.fakes.k3s import write_hosts
from tests.jumphosts.helpers import register_jump_host

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def checks(fleet, settings):
    import regui.nodechecks.tasks  # noqa: F401  (registers the tasks, so eager mode runs them here)

    settings.REGUI_READBACK_AFTER_PUSH = True
    return fleet


def test_the_read_back_after_a_push_goes_through_the_jump_host(checks):
    host = checks.fake.jump_host("bastion-1")
    register_jump_host(host, cluster=checks.cluster)
    (node,) = checks.add("agent", only_via="bastion-1")
    write_hosts(checks["a1"], cluster_render(checks.cluster, reveal=True))
    checks.push()
    readback = HostsReadback.objects.get(node=node)
    assert readback.state == "agrees", readback.message
    assert host.forwards == [(node.address, 22)] * 2, "the push, then the read-back"


def test_a_shared_credential_a_jump_host_logs_in_with_is_not_deleted(checks, make_user):
    jump = register_jump_host(checks.fake.jump_host("bastion-1"))
    with pytest.raises(CredentialError, match="is the credential of jump host bastion-1"):
        credential_delete(user=make_user("alice", "admin"), credential=jump.credential)
    jump.credential.refresh_from_db()
