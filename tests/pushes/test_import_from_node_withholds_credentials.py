"""Import from node on a real node (sshd, a real file read over SSH), as an operator: a file whose
registry name is an alias of its password is neither shown nor imported, and the page says which line.
(Each variant, and as an admin: tests/inventory/test_node_import_secret_names.py.)"""

from __future__ import annotations

import html
import logging

import pytest

from regui.audit.models import Revision
from regui.registries.models import Mirror, Secret

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PW = "node-alias-pw-8"
FILE = (f"configs:\n  reg.example.com:\n    auth:\n      username: bot\n      password: &p {PW}\n"
        "mirrors:\n  *p :\n    endpoint: [\"https://m.example.com\"]\n").encode()


def test_a_node_file_whose_registry_name_is_its_password_is_neither_shown_nor_imported(stack, nodes, client, caplog):
    caplog.set_level(logging.DEBUG)
    h = nodes(1)
    (node,) = stack.add(h)
    h.nodes[0].write("/etc/rancher/k3s/registries.yaml", FILE, 0o600, 0, 0)
    client.force_login(stack.user)
    before = (list(Mirror.objects.values_list("hostname", flat=True)), Revision.objects.count())
    url = f"/clusters/{stack.cluster.name}/nodes/{node.pk}/import/"
    preview = html.unescape(client.post(url).content.decode())
    assert "regui does not show this file" in preview and "line 7: a registry name under mirrors" in preview
    answer = html.unescape(client.post(url, {"confirm": "1"}, follow=True).content.decode())
    assert "regui does not import it" in answer and "line 7" in answer
    for text in (preview, answer, caplog.text, repr(list(Revision.objects.values()))):
        assert PW not in text
    assert (list(Mirror.objects.values_list("hostname", flat=True)), Revision.objects.count()) == before
    assert not Secret.objects.filter(username="bot").exists()
