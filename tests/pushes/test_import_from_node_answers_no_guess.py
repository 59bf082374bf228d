"""Import from node of a file regui wrote there answers no guess of a secret. An operator cannot read the
cluster's registry password, but can type a guess of it where a page shows text (a rewrite), push, and
import from the node: the file then holds the password (by regui's hand) beside the guess. Withholding
the file when its text holds one of its credentials (registries/node_names.py) would say whether the guess
is right, and which line. A file regui wrote holds only text regui's own pages show already, so it is
shown and imported unchecked, whichever the guess."""

from __future__ import annotations

import html

import pytest
from django.contrib.messages import get_messages

from regui.audit.context import acting
from regui.registries.importing import registries_import

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "push-secret-7Q"  # tests/fakes/fleet.py's registry password
GUESSES = {"right": SECRET, "right, in capitals": SECRET.upper(), "wrong": "push-secret-8R"}


def _guess(fleet, operator, guess: str, endpoint: str = "https://mirror.example.com:5000") -> None:
    text = f"mirrors:\n  docker.io:\n    endpoint: [\"{endpoint}\"]\n    rewrite:\n      \"^({guess})$\": \"x/$1\"\n"
    with acting(operator):
        registries_import(cluster=fleet.cluster, text=text, replace=False, user=operator)


@pytest.mark.parametrize("guess", list(GUESSES))
def test_the_preview_of_a_file_regui_wrote_is_the_same_whatever_the_guess(fleet, client, make_user, guess):
    operator = make_user("mallory", "operator")
    (node,) = fleet.add("agent")
    _guess(fleet, operator, GUESSES[guess])
    fleet.push()
    client.force_login(operator)
    preview = html.unescape(client.post(f"/clusters/{fleet.cluster.name}/nodes/{node.pk}/import/").content.decode())
    assert "regui does not show this file" not in preview
    assert f"^({GUESSES[guess]})$" in preview and SECRET not in preview.replace(f"^({GUESSES[guess]})$", "")


@pytest.mark.parametrize("guess", list(GUESSES))
def test_importing_a_file_regui_wrote_before_a_later_save_is_the_same_whatever_the_guess(
        fleet, client, make_user, guess):
    operator = make_user("mallory", "operator")
    (node,) = fleet.add("agent")
    _guess(fleet, operator, GUESSES[guess])
    fleet.push()
    _guess(fleet, operator, "nothing", endpoint="https://other.example.com")  # the node's file is no longer current
    client.force_login(operator)
    url = f"/clusters/{fleet.cluster.name}/nodes/{node.pk}/import/"
    assert client.post(url).status_code == 200
    said = " ".join(str(m) for m in get_messages(client.post(url, {"confirm": "1"}).wsgi_request))
    assert "does not import" not in said and "line " not in said and said.startswith(f"From {node.name}:")
