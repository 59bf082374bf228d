"""An import is no password oracle: an operator who imports a registries.yaml with a guessed password
for a registry whose secret someone else typed learns nothing of whether the guess was right.

Keeping the registry's secret when the file's values equal it (importing a file again changes
nothing) said so, in every answer: the preview ("changed" and a new secret, or nothing to import), the
summary, the history. Below admin, the file's credentials now keep only a secret the importer typed
themselves (they know its values); an admin, who may reveal any secret, still keeps the one it holds."""

from __future__ import annotations

import difflib
import re

import pytest
from django.db import transaction

from regui.audit.models import AuditEvent
from regui.registries.models import RegistryConfig, Secret
from tests.pages import confirm_import
from tests.registries.conftest import CORP, PW  # the `corp` fixture's

pytestmark = pytest.mark.django_db

# What changes from one request to the next whatever was imported: form tokens, box tokens, request
# ids, times; and a revision's file fingerprint, which differs with the file's bytes whatever regui
# does (one import saves the right password, the other a wrong one).
VOLATILE = re.compile(r'(?<=csrfmiddlewaretoken" value=")[^"]*|(?<=name="ticket" value=")[^"]*|(?<=CSRFToken": ")[^"]*'
                      r'|(?<=<td class="mono">)[0-9a-f]{12}(?=</td>)'
                      r"|\bk[0-9a-f]{8}\b|\b[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\b|>[0-9a-f]{8}<|\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?"
                      r"|\b\d\d:\d\d(:\d\d)?\b|\b(just now|\d+ (second|minute)s? ago)\b")


def file_with(password: str) -> str:
    return f'configs:\n  "{CORP}":\n    auth:\n      username: robot\n      password: "{password}"\n'


def what_one_sees(client, cluster, password: str) -> list[str]:
    """Every answer of an import of a file with `password`, and every page it may change, as the client
    sees them; then nothing of it stays (a savepoint), so that another guess starts from the same place."""
    point = transaction.savepoint()
    before = set(Secret.objects.values_list("pk", flat=True))
    events_before = set(AuditEvent.objects.values_list("pk", flat=True))
    try:
        preview = client.post(f"/clusters/{cluster.name}/import/", {"text": file_with(password)})
        done = confirm_import(client, cluster.name, preview)
        answers = [preview, done, client.get(done["Location"])]
        answers += [client.get(url) for url in (
            f"/clusters/{cluster.name}/registries/", "/history/", f"/clusters/{cluster.name}/history/",
            f"/clusters/{cluster.name}/revisions/", "/secrets/", "/secrets/corp-robot/history/")]
        # The ids of the rows made: PostgreSQL's sequences, unlike SQLite's, are not rolled back with the
        # savepoint, so the second import's secrets and history entries take the next numbers.
        made = sorted(set(Secret.objects.values_list("pk", flat=True)) - before)
        events = sorted(set(AuditEvent.objects.values_list("pk", flat=True)) - events_before)

        def plain(text: str) -> str:
            for i, pk in enumerate(made):
                text = re.sub(rf'(\b(?:value|data-auth|data-tls)="|/secrets/){pk}(?=["/])', rf"\g<1>made{i}", text)
            for i, pk in enumerate(events):
                text = re.sub(rf"(\bentry-|/history/){pk}(?=[-/\"])", rf"\g<1>event{i}", text)
            return VOLATILE.sub("…", text)

        seen = [f"{r.status_code} {r.get('Location', '')}\n" + plain(r.content.decode()) for r in answers]
        seen.append(repr(sorted(Secret.objects.values_list("name", flat=True))))
        return seen
    finally:
        transaction.savepoint_rollback(point)


def test_an_operator_cannot_tell_a_right_guess_from_a_wrong_one(operator_client, cluster, corp):
    right = what_one_sees(operator_client, cluster, PW)
    wrong = what_one_sees(operator_client, cluster, "Corp-Robot-Password-7R")
    assert len(right) == len(wrong)
    for r, w in zip(right, wrong, strict=True):
        assert r == w, "\n".join(difflib.unified_diff(r.splitlines(), w.splitlines(), "right", "wrong", lineterm=""))
    assert PW not in "".join(right)


def test_an_operators_import_makes_a_secret_of_a_password_someone_else_typed(operator_client, cluster, corp):
    preview = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": file_with(PW)})
    assert [c.action for c in preview.context["preview"].changes] == ["changed"]
    assert confirm_import(operator_client, cluster.name, preview).status_code == 302
    made = RegistryConfig.objects.get(cluster=cluster).auth_secret
    assert made != corp and made.unseal() == {"password": PW} and made.typed_by == "olivia"


def test_an_operator_importing_their_own_file_again_keeps_the_secret_it_made(operator_client, cluster):
    for _ in range(2):
        preview = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": file_with("hers")})
        confirm_import(operator_client, cluster.name, preview)
    assert preview.context["preview"].changes == []
    assert Secret.objects.count() == 1


def test_an_admin_importing_the_registrys_password_keeps_its_secret(admin_client, cluster, corp):
    preview = admin_client.post(f"/clusters/{cluster.name}/import/", {"text": file_with(PW)})
    assert preview.context["preview"].changes == []
    confirm_import(admin_client, cluster.name, preview)
    assert RegistryConfig.objects.get(cluster=cluster).auth_secret == corp and Secret.objects.count() == 1


def test_an_import_from_a_node_compares_on_the_same_terms(fake_ssh, operator_client, cluster, corp):
    # The node's file may hold a guess: an operator pushes it in a secret of their own, then restores
    # the revision with the registry's secret (it goes there already) and imports the node's file.
    from tests.fakes.fleet import register

    fake = fake_ssh.node("n1")
    fake.write("/etc/rancher/k3s/registries.yaml", file_with(PW).encode())
    url = f"/clusters/{cluster.name}/nodes/{register(cluster, fake).pk}/import/"
    operator_client.post(url)
    assert operator_client.post(url, {"confirm": "1"}).status_code == 302
    made = RegistryConfig.objects.get(cluster=cluster).auth_secret
    assert made != corp and made.typed_by == ""  # not hers: test_secret_hosts.py

