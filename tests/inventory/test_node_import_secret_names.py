"""Import from node, as an operator or an admin, of a node's registries.yaml whose registry names (or
endpoints, rewrites, usernames) are a credential of that same file: an alias of its password, a
!!binary name, the password written where a name goes. The preview and the confirmation say which
lines, never what they hold; nothing is saved, so no secret, revision or history entry holds it, and
no log line does. (What is withheld, and why: tests/registries/test_node_file_secret_names.py.)"""

from __future__ import annotations

import html
import logging

import pytest

from regui.audit.models import AuditEvent, Revision
from regui.registries.models import Mirror, RegistryConfig, Secret
from tests.fakes.fleet import register
from tests.registries.test_node_file_secret_names import AUTH, B64, HOSTILE, PW

pytestmark = pytest.mark.django_db

SHOWN = (PW, B64, AUTH, PW.upper())


def _import(fake_ssh, cluster, client, text: str) -> tuple[str, str]:
    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", text.encode())
    url = f"/clusters/{cluster.name}/nodes/{register(cluster, fake).pk}/import/"
    preview = client.post(url)
    assert preview.status_code == 200
    answer = client.post(url, {"confirm": "1", "replace": "1"}, follow=True)
    assert answer.status_code == 200
    return html.unescape(preview.content.decode()), html.unescape(answer.content.decode())


def _history() -> str:
    return repr([list(AuditEvent.objects.values()), list(Revision.objects.values())])


@pytest.mark.parametrize("role", ["operator", "admin"])
@pytest.mark.parametrize("what", list(HOSTILE))
def test_a_node_file_that_would_show_a_credential_is_refused_and_shows_none_of_it(
        fake_ssh, cluster, operator_client, admin_client, caplog, role, what):
    client = operator_client if role == "operator" else admin_client
    caplog.set_level(logging.DEBUG)
    preview, answer = _import(fake_ssh, cluster, client, HOSTILE[what])
    assert "regui does not show this file" in preview and "line " in preview
    assert "regui does not import it" in answer
    for page in (preview, answer, _history(), caplog.text, repr(dict(client.session))):
        for secret in SHOWN:
            assert secret not in page
    assert not Mirror.objects.exists() and not RegistryConfig.objects.exists() and not Secret.objects.exists()
    assert not Revision.objects.exists()


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_the_same_file_without_the_credential_in_a_name_is_imported(
        fake_ssh, cluster, operator_client, admin_client, caplog, role):
    """The control: the refusal is for the name, not for the file's other parts."""
    client = operator_client if role == "operator" else admin_client
    caplog.set_level(logging.DEBUG)
    text = HOSTILE["a mirror name that is an alias of the password"].replace("*p :", "docker.io:")
    preview, answer = _import(fake_ssh, cluster, client, text)
    assert "docker.io" in preview and "reg.example.com" in preview
    assert Mirror.objects.filter(cluster=cluster, hostname="docker.io").exists()
    assert Secret.objects.get(username="robot").unseal() == {"password": PW}
    for page in (preview, answer, _history(), caplog.text):
        assert PW not in page
