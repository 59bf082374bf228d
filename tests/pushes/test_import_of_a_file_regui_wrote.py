"""Import from node of the file regui wrote there, with the cluster's current secret values, changes
nothing (no new secret, no revision), for every role. Told by what regui recorded for the node, never
by comparing the file with the render: once a secret was given a value since, it imports as before."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from regui.audit.context import acting
from regui.registries.models import Secret
from regui.registries.services import SecretInput, secret_save

pytestmark = pytest.mark.django_db(transaction=True)


def _import(client, fleet, node):
    url = f"/clusters/{fleet.cluster.name}/nodes/{node.pk}/import/"
    assert client.post(url).status_code == 200  # the redacted preview
    r = client.post(url, {"confirm": "1"})
    assert r.status_code == 302
    return [str(m) for m in get_messages(r.wsgi_request)]


def _state(fleet):
    fleet.cluster.refresh_from_db()
    return fleet.cluster.revision, sorted(Secret.objects.values_list("name", flat=True))


def test_importing_the_file_regui_wrote_with_the_current_secrets_changes_nothing(fleet, client):
    (node,) = fleet.add("agent")
    fleet.push()
    before = _state(fleet)
    client.force_login(fleet.user)
    said = _import(client, fleet, node)
    assert said == ["Nothing to import: a1 holds the cluster's current registries, as regui wrote them there. "
                    "Nothing was saved."]
    assert _state(fleet) == before


def test_once_a_secret_was_given_a_value_since_the_file_imports_as_before(fleet, client, make_user):
    (node,) = fleet.add("agent")
    fleet.push()
    operator = make_user("mallory", "operator")
    secret = Secret.objects.get(cluster=fleet.cluster)
    with acting(operator):
        secret_save(data=SecretInput(name=secret.name, kind=secret.kind, username=secret.username,
                                     password="push-secret-7Q", cluster=fleet.cluster), existing=secret, user=operator)
    revision, secrets = _state(fleet)
    client.force_login(fleet.user)  # another operator: not who typed the value
    said = _import(client, fleet, node)
    assert not any(m.startswith("Nothing to import") for m in said), said
    # Below admin another's secret is never compared: the node's credentials become a new secret (README: An
    # import answers no guess).
    assert _state(fleet) == (revision + 1, sorted([*secrets, f"{secret.name[:-len('-auth')]}-auth-2"]))
