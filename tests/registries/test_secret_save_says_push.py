"""Rancher users rotate a registry secret elsewhere and find it rolled out to every node, unasked.
regui's secret save changes no node: when what reaches the nodes changed (a value, the username, the
certificate) and registries use the secret, the saved message says so and names where it is used."""

from __future__ import annotations

import pytest

from regui.registries.services import SecretInput, secret_save
from tests.registries.conftest import CORP, PW

pytestmark = pytest.mark.django_db

NOTE = "No node has its new values until you push"


def save(client, name, **fields):
    data = {"cluster": "prod", "name": name, **fields}
    return client.post(f"/secrets/{name}/", data, follow=True).content.decode()


def test_a_new_password_of_a_used_secret_says_no_node_has_it_until_a_push(operator_client, corp):
    page = save(operator_client, "corp-robot", username="robot", password="Rotated-Password-81")
    assert "Secret corp-robot saved." in page
    assert f"{NOTE}: it is used by prod: {CORP}." in page


def test_a_new_username_says_so_too(operator_client, corp):
    assert NOTE in save(operator_client, "corp-robot", username="robot2")


def test_a_new_description_reaches_no_node_and_says_nothing_of_pushing(operator_client, corp):
    page = save(operator_client, "corp-robot", username="robot", description="the CI robot")
    assert "Secret corp-robot saved." in page and NOTE not in page


def test_a_secret_no_registry_uses_says_nothing_of_pushing(operator_client, cluster):
    secret_save(data=SecretInput(name="spare", kind="basic", username="u", password="Spare-Password-12",
                                 cluster=cluster))
    page = save(operator_client, "spare", username="u", password="Spare-Password-13")
    assert "Secret spare saved." in page and NOTE not in page


def test_a_guess_of_the_stored_password_is_answered_as_any_other_password(operator_client, corp):
    """The message follows the value's identity, new on every typed value: it says nothing of the guess."""
    right = save(operator_client, "corp-robot", username="robot", password=PW)
    wrong = save(operator_client, "corp-robot", username="robot", password=PW + "x")
    assert f"{NOTE}: it is used by prod: {CORP}." in right
    assert right.count(NOTE) == wrong.count(NOTE) == 1
    assert PW not in right and PW not in wrong
