"""A push's rolling choices typed wrong on the node list: nothing is pushed, and the message names each
field as the form labels it (not its internal name), once."""

from __future__ import annotations

import pytest

from tests.fakes.fleet import register

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("data, said", [
    ({"agents_at_once": "0"}, "Nothing was pushed: Agents at once is between 1 and 10000."),
    ({"max_failures": "-1"}, "Nothing was pushed: Stop after failures: Ensure this value is greater than or equal to 0."),
    ({"pause_seconds": "99999999"}, "Nothing was pushed: Pause between batches (s): "),
    ({"ready_gate": "maybe"}, "Nothing was pushed: Health after a restart: Select a valid choice."),
])
def test_a_wrong_choice_is_named_as_the_form_labels_it(operator_client, cluster, fake_ssh, data, said):
    register(cluster, fake_ssh.node("a1"))
    r = operator_client.post("/clusters/prod/push/", {"scope": "all", **data}, follow=True)
    assert r.redirect_chain[-1][0] == "/clusters/prod/nodes/"
    assert said in r.content.decode().replace("&#x27;", "'")
