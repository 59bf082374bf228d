"""Bulk add says what is wrong with the pasted lines as a person can act on it: the part of a line that
is wrong (a URL for an address, a role typo, a port that is not a number), each problem on its own in
line order, and together with the other fields' errors rather than one round later."""

from __future__ import annotations

import re

import pytest

from regui.inventory.models import Node
from regui.inventory.services import parse_bulk

pytestmark = pytest.mark.django_db
BASE = {"ssh_user": "deploy", "credential_kind": "password", "credential": "pw-123"}


def field_errors(response) -> list[str]:
    return re.findall(r'<div class="field-error">(.*?)</div>', response.content.decode())


def test_the_wrong_part_of_a_line_is_named():
    _, errors = parse_bulk(
        "a1 http://10.0.0.1 agent\na2 10.0.0.2 worker\na3 10.0.0.3:ssh agent\n"
        "a.4 10.0.0.4 agent\na5 10.0.0.5\n"
    )
    assert errors == [
        "line 1: address 'http://10.0.0.1': Enter the host name or IP address alone, not a URL"
        " (e.g. 10.0.0.5 or node-1.example.com).",
        "line 2: the role is server or agent, not 'worker'",
        "line 3: the port after '10.0.0.3' is a number, not 'ssh'",
        "line 4: a name has letters, digits, '-' and '_' only, not 'a.4'",
        "line 5: expected `name address[:port] server|agent`, got 'a5 10.0.0.5'",
    ]


def test_each_line_is_said_apart_with_the_missing_credential(operator_client, cluster):
    r = operator_client.post(
        "/clusters/prod/nodes/bulk/",
        {**BASE, "credential": "", "lines": "a1 10.0.0.1 worker\na2 http://x agent"},
    )
    assert r.status_code == 400 and not Node.objects.exists()
    errors = field_errors(r)
    assert errors[:2] == [
        "line 1: the role is server or agent, not &#x27;worker&#x27;",
        "line 2: address &#x27;http://x&#x27;: Enter the host name or IP address alone, not a URL"
        " (e.g. 10.0.0.5 or node-1.example.com).",
    ]
    assert "A private key or password is required, or choose a shared credential." in errors


def test_names_and_hosts_already_in_the_cluster_are_said_in_line_order(operator_client, cluster):
    Node.objects.create(cluster=cluster, name="a1", address="10.0.0.1", role="agent")
    Node.objects.create(cluster=cluster, name="a2", address="10.0.0.2", role="agent")
    r = operator_client.post(
        "/clusters/prod/nodes/bulk/", {**BASE, "lines": "a2 10.0.0.1 agent\na1 10.0.0.2 agent"}
    )
    assert r.status_code == 400 and Node.objects.count() == 2
    assert field_errors(r) == [
        "line 1: node &#x27;a2&#x27; already exists",
        "line 1: 10.0.0.1:22 is already node a1",
        "line 2: node &#x27;a1&#x27; already exists",
        "line 2: 10.0.0.2:22 is already node a2",
    ]
