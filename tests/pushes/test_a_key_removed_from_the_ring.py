"""A key dropped from REGUI_ENCRYPTION_KEYS before rotate_secret_keys re-encrypted what it sealed: the
start-up check looks only at the newest value of each kind, so an older one may still be sealed with it.
Whatever needs that value says which one cannot be opened and what to do, as a push's or a node's
result and as a page (409), never an internal error, a traceback in the log or a 500."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from regui.core import crypto
from regui.inventory.models import Node
from regui.probes.services import registry_test_create, registry_test_run
from regui.registries.models import Secret

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "prod-mirror-example-com-5000-auth"


def seal_with_a_removed_key(model, pk: int, value: dict) -> None:
    model.objects.filter(pk=pk).update(sealed=crypto.encrypt((crypto.generate_key(),), json.dumps(value)))


def no_traceback(caplog) -> bool:
    return not [r for r in caplog.records if r.exc_info]


def test_a_registry_secret_no_key_opens_stops_the_push_naming_the_secret_and_contacting_no_node(fleet, caplog):
    fleet.add("server", "agent")
    seal_with_a_removed_key(Secret, Secret.objects.get(name=SECRET).pk, {"password": "push-secret-7Q"})
    with caplog.at_level(logging.INFO):
        job = fleet.push()
    assert job.status == "failed"
    assert f"the secret {SECRET} cannot be opened" in job.message
    assert "REGUI_ENCRYPTION_KEYS" in job.message and "KeyringError" not in job.message
    assert "worker log" not in job.message
    assert {r.status for r in fleet.results(job).values()} == {"skipped"}
    assert f"the secret {SECRET} cannot be opened" in fleet.results(job)["a1"].message
    assert fleet["s1"].connects == [] == fleet["a1"].connects
    assert no_traceback(caplog)


def test_a_node_credential_no_key_opens_fails_that_node_only_and_sends_it_nothing(fleet, caplog):
    _, agent = fleet.add("server", "agent")
    seal_with_a_removed_key(Node, agent.pk, {"v": "the-old-password"})
    with caplog.at_level(logging.INFO):
        job = fleet.push()
    results = fleet.results(job)
    assert results["s1"].status == "changed"
    assert results["a1"].status == "failed"
    assert results["a1"].message.startswith("the SSH credential of node a1 cannot be opened")
    assert "internal error" not in results["a1"].message and "KeyringError" not in results["a1"].message
    assert fleet["a1"].connects == []
    assert no_traceback(caplog)


@pytest.mark.parametrize("method, path", [
    ("get", "/clusters/prod/nodes/"),
    ("get", "/clusters/prod/nodes/{node}/"),
    ("get", "/clusters/prod/registries.yaml"),
    ("post", f"/secrets/{SECRET}/reveal/"),
])
def test_a_page_that_needs_a_secret_no_key_opens_answers_409_saying_which(fleet, make_user, method, path):
    node, = fleet.add("server")
    seal_with_a_removed_key(Secret, Secret.objects.get(name=SECRET).pk, {"password": "push-secret-7Q"})
    client = Client(raise_request_exception=False)
    client.force_login(make_user("ada", "admin"))
    response = getattr(client, method)(path.format(node=node.pk))
    text = response.content.decode()
    assert response.status_code == 409
    assert f"The secret {SECRET} cannot be opened" in text and "rotate_secret_keys" in text


def test_the_page_says_it_in_a_sentence_that_begins_with_a_capital(fleet, make_user):
    # The push's message reads "...: the secret x cannot be opened"; alone on the page it opens a paragraph.
    seal_with_a_removed_key(Secret, Secret.objects.get(name=SECRET).pk, {"password": "push-secret-7Q"})
    client = Client(raise_request_exception=False)
    client.force_login(make_user("vic", "viewer"))
    text = client.get("/clusters/prod/nodes/").content.decode()
    assert f'data-refusal>The secret {SECRET} cannot be opened' in text


def test_a_registry_test_that_needs_a_secret_no_key_opens_is_refused_saying_which(fleet, caplog):
    seal_with_a_removed_key(Secret, Secret.objects.get(name=SECRET).pk, {"password": "push-secret-7Q"})
    test = registry_test_create(cluster=fleet.cluster, registry="mirror.example.com:5000", enqueue=False)
    with caplog.at_level(logging.INFO):
        test = registry_test_run(test.pk)
    assert test.status == "refused"
    # The summary stands alone on the Registries page: a sentence of its own, as the other summaries are.
    assert test.summary.startswith(f"The secret {SECRET} cannot be opened") and "Internal error" not in test.summary
    assert no_traceback(caplog)
