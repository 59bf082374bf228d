"""The import page in two steps: paste or upload, look at what it would change (nothing saved),
then Import; the file waits in the session, sealed, never in the page (issue 11 part 5)."""

from __future__ import annotations

import pytest

from regui.registries.importing import registries_import
from regui.registries.models import Cluster, Mirror, RegistryConfig, Secret
from regui.registries.selectors import cluster_render
from tests.pages import confirm_import
from tests.registries.test_import_preview import FLAT_002, PASSWORD, WITH_AUTH

pytestmark = pytest.mark.django_db


@pytest.fixture
def rke2(db):
    return Cluster.objects.create(name="edge", distro="rke2")


def test_the_import_page_shows_the_diff_and_saves_nothing_until_confirmed(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": WITH_AUTH})
    html = r.content.decode()
    assert r.status_code == 200 and 'id="import-preview"' in html
    assert "Mirror <span class=\"mono\">docker.io</span> added" in html
    assert "Secret <span class=\"mono\">prod-reg-example-com-5000-auth</span> created" in html
    assert "&lt;redacted: password of secret prod-reg-example-com-5000-auth&gt;" in html, "the diff, redacted"
    assert PASSWORD not in html
    # Back is the browser's (regui.js, data-back): the form comes back filled in, not sent by the server.
    assert f'<a href="/clusters/{cluster.name}/import/" data-back>Back</a>' in html
    assert not Mirror.objects.exists() and not Secret.objects.exists() and cluster.revisions.count() == 0
    # The text waits in the session sealed, never in the page and never in clear.
    assert PASSWORD not in str(dict(operator_client.session))

    r = confirm_import(operator_client, cluster.name, r, message="from the old box")
    assert r.status_code == 302 and r["Location"] == f"/clusters/{cluster.name}/"
    assert Mirror.objects.get().hostname == "docker.io"
    assert Secret.objects.get().name == "prod-reg-example-com-5000-auth"
    assert cluster.revisions.get().message == "from the old box"
    # Confirming twice does not import twice.
    again = operator_client.post(f"/clusters/{cluster.name}/import/confirm/", {"ticket": "x"})
    assert again.status_code == 302 and again["Location"] == f"/clusters/{cluster.name}/import/"
    assert cluster.revisions.count() == 1


def test_the_preview_is_exactly_what_the_import_saves(operator_client, cluster):
    registries_import(cluster=cluster, replace=False, text="mirrors:\n  ghcr.io:\n    endpoint: [https://g.example.com]\n")
    r = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": WITH_AUTH})
    after = "\n".join(line.text for line in r.context["preview"].lines if line.kind != "del" and line.kind != "hunk")
    confirm_import(operator_client, cluster.name, r)
    cluster.refresh_from_db()
    assert r.context["preview"].after == cluster_render(cluster)
    assert "prod-reg-example-com-5000-auth" in after


def test_a_confirm_after_someone_saved_shows_the_new_diff_and_asks_again(operator_client, cluster):
    first = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": WITH_AUTH})
    registries_import(cluster=cluster, replace=False, text="mirrors:\n  quay.io:\n    endpoint: [https://q.example.com]\n")
    r = confirm_import(operator_client, cluster.name, first)
    html = r.content.decode()
    assert r.status_code == 409 and 'id="import-notice"' in html and "after this preview was made" in html
    assert not Secret.objects.exists(), "nothing of the file was saved"
    r = confirm_import(operator_client, cluster.name, r)
    assert r.status_code == 302
    assert sorted(Mirror.objects.values_list("hostname", flat=True)) == ["docker.io", "quay.io"]


def test_confirming_a_preview_another_tab_replaced_imports_nothing(operator_client, cluster):
    older = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": WITH_AUTH})
    newer = operator_client.post(f"/clusters/{cluster.name}/import/", {"text": "mirrors:\n  quay.io: {}\n"})
    r = confirm_import(operator_client, cluster.name, older)
    assert r.status_code == 302 and r["Location"] == f"/clusters/{cluster.name}/import/"
    assert not Mirror.objects.exists()
    assert confirm_import(operator_client, cluster.name, newer).status_code == 302
    assert Mirror.objects.get().hostname == "quay.io"


def test_the_import_page_refuses_a_file_that_yields_nothing_with_the_reason(operator_client, rke2):
    r = operator_client.post(f"/clusters/{rke2.name}/import/", {"text": FLAT_002})
    html = r.content.decode()
    assert r.status_code == 400 and "RKE2 reads no registry from this file" in html
    assert "docker.io, endpoint, registry.example.com" in html
    assert not rke2.revisions.exists()


def test_viewers_can_neither_preview_nor_confirm_an_import(viewer_client, cluster):
    assert viewer_client.post(f"/clusters/{cluster.name}/import/", {"text": WITH_AUTH}).status_code == 403
    assert viewer_client.post(f"/clusters/{cluster.name}/import/confirm/").status_code == 403
    assert not RegistryConfig.objects.exists()
