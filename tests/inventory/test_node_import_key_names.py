"""Import from node names the keys of a node's file that K3s ignores (a file that lost its indentation is
refused with its top-level keys; an import lists the keys it leaves out), but the file is no one's
typing: an operator who runs the import must not learn a value through a key's name. So from a node's
file only the keys K3s reads somewhere are named (a `password` at the top level, never what follows it),
the others counted: a key can be a value (an alias of one, a !!binary one, a credential written where a
name goes). Every key named, typed or not, is cut short and shown in printable characters."""

from __future__ import annotations

import html

import pytest

from regui.k3s import parse_registries
from regui.registries.import_text import MAX_KEY_SHOWN, reads_nothing
from regui.registries.models import Secret
from tests.fakes.fleet import register

pytestmark = pytest.mark.django_db

PW = "tango-flat-pw-5"


def import_from_node(fake_ssh, cluster, client, text: str) -> str:
    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", text.encode())
    url = f"/clusters/{cluster.name}/nodes/{register(cluster, fake).pk}/import/"
    preview = client.post(url)
    assert preview.status_code == 200
    answer = client.post(url, {"confirm": "1"}, follow=True)
    assert answer.status_code == 200
    return html.unescape(preview.content.decode() + answer.content.decode())


FLAT = f'configs:\n"registry.example.com":\nauth:\nusername: robot\npassword: {PW}\n'


def test_a_flat_node_file_is_refused_naming_password_but_never_its_value(fake_ssh, cluster, operator_client):
    page = import_from_node(fake_ssh, cluster, operator_client, FLAT)
    assert "reads no registry from this file" in page and "password" in page
    assert PW not in page and "registry.example.com" not in page.split("Its top level holds")[1][:200]


@pytest.mark.parametrize("text", [
    f"password: &pw {PW}\n*pw : x\n",  # an alias of a password, as a key
    "password: x\n!!binary dGFuZ28tZmxhdC1wdy01: x\n",  # base64 of the password, as a key
    f"username: robot\n{PW}: x\n",  # a credential written where a name goes
], ids=["alias", "binary", "as a name"])
def test_a_key_that_is_a_value_is_counted_not_named(fake_ssh, cluster, operator_client, text):
    page = import_from_node(fake_ssh, cluster, operator_client, text)
    assert "reads no registry from this file" in page and PW not in page
    assert "1 other key" in page


def test_the_keys_an_import_from_a_node_leaves_out_name_no_value(fake_ssh, cluster, operator_client):
    text = ("configs:\n  registry.example.com:\n    auth:\n      username: robot\n"
            f"      password: &pw {PW}\n      pasword: y\n    *pw : x\n")
    page = import_from_node(fake_ssh, cluster, operator_client, text)
    assert "ignores these keys" in page and PW not in page
    assert Secret.objects.filter(kind="basic").exists(), "the file was imported"


@pytest.mark.parametrize("key", ['"\\u202eevil\\x1b[31m\\u200b"', '"a\\nb\\rc\\td"', "k" * 1000],
                         ids=["bidi and escape", "line breaks", "long"])
def test_a_typed_key_is_shown_printable_and_short(key):
    text = f"{key}: 1\nendpoint: x\n"
    refused = reads_nothing(parse_registries(text), text, "K3s")
    shown = " ".join(refused.details)
    assert "endpoint" in shown
    assert shown.isprintable() and "k" * (MAX_KEY_SHOWN + 1) not in shown
