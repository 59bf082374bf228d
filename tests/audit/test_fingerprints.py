"""No page shows anything derived from secret values to someone who cannot reveal them: a file's
sha256 would let a viewer check password guesses offline against the redacted text, so pages show a
keyed fingerprint instead (the same file, the same fingerprint)."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.utils import timezone

from regui.audit.context import acting
from regui.audit.models import AuditEvent, Revision
from regui.audit.services import audit_record
from regui.core.fingerprints import file_fingerprint, sync_key
from regui.inventory.models import Node
from regui.pushes.models import PushJob, PushResult
from regui.registries.importing import registries_import
from regui.registries.selectors import cluster_render

pytestmark = pytest.mark.django_db

WEAK = "hunter2"


@pytest.fixture
def revised(make_user, cluster):
    yaml = ('mirrors:\n  docker.io:\n    endpoint: ["https://one.example.com"]\n'
            f'configs:\n  "one.example.com":\n    auth: {{username: robot, password: "{WEAK}"}}\n')
    with acting(None):
        registries_import(cluster=cluster, text=yaml, replace=True, message="weak")
    cluster.refresh_from_db()
    return cluster


def hex_runs(html: str) -> set[str]:
    return set(re.findall(r"[0-9a-f]{12,}", html))


def test_a_password_guess_cannot_be_checked_against_any_page(viewer_client, revised):
    real = cluster_render(revised, reveal=True)
    sha = hashlib.sha256(real.encode()).hexdigest()
    revision = Revision.objects.get(cluster=revised, number=1)
    assert revision.sha256 == sha
    node = Node.objects.create(cluster=revised, name="n1", address="n1.example.com", last_sha256=sha,
                               last_sync_key=revision.sync_key, sync_state=Node.Sync.IN_SYNC,
                               last_checked_at=timezone.now())
    job = PushJob.objects.create(cluster=revised, status=PushJob.Status.DONE, sha256=sha, revision=1)
    PushResult.objects.create(job=job, node=node, node_name="n1", role="agent", status="changed",
                              sha256_before="0" * 64, sha256_after=sha, key_before="0" * 64,
                              key_after=revision.sync_key)
    pages = [f"/clusters/{revised.name}/revisions/", f"/clusters/{revised.name}/revisions/1/",
             f"/clusters/{revised.name}/nodes/{node.pk}/", f"/clusters/{revised.name}/nodes/{node.pk}/revision/",
             f"/jobs/{job.pk}/", f"/clusters/{revised.name}/history/"]
    for url in pages:
        r = viewer_client.get(url)
        assert r.status_code == 200, url
        html = r.content.decode()
        # Not the hash, nor any run of it long enough to confirm a guess.
        assert not any(run in sha for run in hex_runs(html)), url
        assert WEAK not in html
    # The same file shows the same fingerprint wherever it is shown: made of its sync key (the bytes and
    # the identities of the secret values in it), never of the bytes alone.
    for url in [*pages[1:3], pages[4]]:
        shown = viewer_client.get(url).content.decode()
        assert file_fingerprint(revision.sync_key) in shown and file_fingerprint(sha) not in shown, url


def test_the_fingerprint_needs_the_server_key(settings):
    sha = hashlib.sha256(b"mirrors: {}\n").hexdigest()
    first = file_fingerprint(sha)
    assert first and sha[:12] not in first and first == file_fingerprint(sha)
    settings.SECRET_KEY = "another-install-" + "k" * 40
    assert file_fingerprint(sha) != first


def test_a_sync_key_stays_when_the_server_key_changes(settings):
    # Stored on nodes and revisions: a rotated REGUI_SECRET_KEY (or a worker started with another) must
    # not make every node look drifted and every next push a restart.
    sha = hashlib.sha256(b"mirrors: {}\n").hexdigest()
    first = sync_key(sha, ["b" * 32, "a" * 32])
    settings.SECRET_KEY = "another-install-" + "k" * 40
    assert sync_key(sha, ["a" * 32, "b" * 32]) == first
    assert sync_key(sha, ["a" * 32]) != first and sync_key(sha, ()) != first and sha not in first


def test_history_written_with_a_sha256_shows_and_exports_its_fingerprint(viewer_client, cluster):
    sha = hashlib.sha256(b"old entry").hexdigest()
    entry = audit_record(action="push_result", object_type="node", object_id="1", object_repr="n1",
                         cluster=cluster, changes={"status": [None, "changed"], "sha256": [None, sha]})
    page = viewer_client.get(f"/history/{entry.pk}/").content.decode()
    export = b"".join(viewer_client.get("/history/export.csv").streaming_content).decode()
    for shown in (page, export):
        assert sha not in shown and sha[:12] not in shown
        assert file_fingerprint(sha) in shown
    assert AuditEvent.objects.get(pk=entry.pk).changes["sha256"][1] == sha, "the stored entry is unchanged"
