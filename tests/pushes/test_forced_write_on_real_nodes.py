"""On a real node (sshd, the node program under sh): a secret given a value again, the same one, makes the
next push write the file and restart, though its bytes on the node were already the same; the push after
that finds the key regui wrote and says unchanged."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MAIN = "/etc/rancher/k3s/registries.yaml"


def test_a_secret_retyped_with_the_same_value_is_written_again_and_restarts_the_node(stack, nodes):
    from regui.audit.context import acting
    from regui.registries.models import Secret
    from regui.registries.services import SecretInput, secret_save

    h = nodes(1)
    stack.add(h)
    assert stack.results(stack.push())["node1"].status == "changed"
    first, restarts = h.nodes[0].read(MAIN), len(h.nodes[0].restarts())
    secret = Secret.objects.get(cluster=stack.cluster)
    with acting(stack.user):
        secret_save(data=SecretInput(name=secret.name, kind=secret.kind, username=secret.username,
                                     password=secret.unseal()["password"], cluster=stack.cluster),
                    existing=secret, user=stack.user)
    forced = stack.results(stack.push())["node1"]
    assert (forced.status, forced.restarted) == ("changed", True)
    assert h.nodes[0].read(MAIN) == first and len(h.nodes[0].restarts()) == restarts + 1
    again = stack.results(stack.push())["node1"]
    assert (again.status, again.restarted) == ("unchanged", False)
