"""A jump host as regui knows it, for a fake one (tests/fakes/jump.py)."""

from __future__ import annotations

from django.utils import timezone

from regui.inventory.credentials.models import SharedCredential
from regui.inventory.jumphosts.models import ClusterJumpHost, JumpHost
from regui.registries.models import Cluster
from tests.fakes.jump import FakeJumpHost


def register_jump_host(fake: FakeJumpHost, *, approve: bool = True, cluster: Cluster | None = None) -> JumpHost:
    """The fake jump host with a shared credential of its own and (approved) host key; used by `cluster`."""
    credential = SharedCredential(name=f"{fake.name}-key", kind=SharedCredential.Kind.KEY)
    credential.seal_value(fake.credential)
    credential.save()
    jump = JumpHost(name=fake.name, address=fake.address, port=fake.port, ssh_user=fake.username,
                    credential=credential)
    if approve:
        jump.host_key_type, jump.host_key = fake.host_key.type, fake.host_key.key
        jump.host_key_fingerprint, jump.host_key_approved_at = fake.host_key.fingerprint, timezone.now()
    jump.save()
    if cluster is not None:
        ClusterJumpHost.objects.create(cluster=cluster, jump_host=jump, chosen_by="alice")
    return jump
