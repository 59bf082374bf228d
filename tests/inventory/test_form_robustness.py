"""Odd input on the node forms gives form errors, never a database error (PostgreSQL checks lengths)."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node

pytestmark = pytest.mark.django_db

KEY = "password-for-node-1"


@pytest.mark.parametrize("lines, ssh_user", [
    ("n1 10.0.0.1 agent", "u" * 100),
    (f"n1 {'a' * 300}.example.com agent", "root"),
    (f"{'n' * 100} 10.0.0.1 agent", "root"),
    ("n1 10.0.0.1:99999 agent", "root"),
    ("n1 10.0.0.1 agent\x00", "root"),
])
def test_bulk_add_refuses_what_cannot_be_stored(operator_client, cluster, lines, ssh_user):
    r = operator_client.post(f"/clusters/{cluster.name}/nodes/bulk/", {
        "lines": lines, "ssh_user": ssh_user, "credential_kind": "password", "credential": KEY})
    assert r.status_code == 400 and 'class="field-error"' in r.content.decode() and not Node.objects.exists()


@pytest.mark.parametrize("field, value", [("ssh_user", "u" * 100), ("address", "a" * 300), ("name", "n" * 100),
                                          ("port", "70000"), ("labels_text", "k=" + "v" * 5000)])
def test_the_node_form_refuses_what_cannot_be_stored(operator_client, cluster, field, value):
    data = {"name": "n1", "address": "10.0.0.1", "port": "22", "role": "agent", "ssh_user": "root",
            "credential_kind": "password", "credential": KEY, field: value}
    r = operator_client.post(f"/clusters/{cluster.name}/nodes/new/", data)
    if field == "labels_text":  # labels are JSON: any length is kept
        assert r.status_code == 302 and Node.objects.get().labels
        return
    assert r.status_code == 400 and 'class="field-error"' in r.content.decode() and not Node.objects.exists()
