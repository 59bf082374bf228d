"""The History page and tabs: filters, pages, htmx parts, the entry diff, CSV export; read-only, no secrets."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from regui.audit.context import acting
from regui.audit.models import AuditEvent
from regui.audit.services import audit_record
from regui.registries.models import Cluster, Secret
from tests.audit.helpers import edit_endpoint

pytestmark = pytest.mark.django_db

PW = "Hist0ry-Secret-Pw-41"
YAML = (f'mirrors:\n  docker.io:\n    endpoint: ["https://a.example.com"]\n'
        f'configs:\n  "a.example.com":\n    auth: {{username: robot, password: "{PW}"}}\n')




@pytest.fixture
def story(make_user, cluster):
    """Real entries through the services: ada imports prod (a secret with a password), bob edits a
    mirror, bob sets up edge, a node is added to prod, a standalone secret changes."""
    from regui.inventory.services import nodes_bulk_create
    from regui.registries.importing import registries_import
    from regui.registries.services import SecretInput, secret_save

    ada, bob = make_user("ada", "operator"), make_user("bob", "operator")
    with acting(ada):
        registries_import(cluster=cluster, text=YAML, replace=True, user=ada)
    edit_endpoint(cluster, "https://b.example.com", bob, "move to b")
    edge = Cluster.objects.create(name="edge")
    with acting(bob):
        registries_import(cluster=edge, text='mirrors:\n  quay.io:\n    endpoint: ["https://q.example.com"]\n',
                          replace=True, user=bob)
    with acting(ada):
        (node,) = nodes_bulk_create(cluster=cluster, text="n1 10.0.0.1 agent", ssh_user="root",
                                    credential_kind="password", credential=PW + "-node", use_sudo=False)
        lone = secret_save(data=SecretInput(name="lone", kind="basic", username="u", password=PW + "-lone",
                                            cluster=cluster))
        secret_save(data=SecretInput(name="lone", kind="basic", username="u2", password=PW + "-new"), existing=lone)
    node = cluster.nodes.get()
    return {"ada": ada, "bob": bob, "prod": cluster, "edge": edge, "node": node, "lone": lone}


def ids_in(response) -> set[int]:
    html = response.content.decode()
    return {e.pk for e in AuditEvent.objects.all() if f'id="entry-{e.pk}"' in html}


def test_the_history_page_lists_every_entry_newest_first(viewer_client, story):
    r = viewer_client.get("/history/")
    assert r.status_code == 200
    html = r.content.decode()
    ordered = list(AuditEvent.objects.order_by("-time", "-id").values_list("pk", flat=True))
    positions = [html.index(f'id="entry-{pk}"') for pk in ordered]
    assert positions == sorted(positions)
    assert 'id="history-filters"' in html and "css/history.css" in html


@pytest.mark.parametrize(("params", "expected"), [
    ({"user": "bob"}, {"actor_name": "bob"}),
    ({"user": "(system)"}, {"actor_name": ""}),
    ({"cluster": "edge"}, {"cluster_name": "edge"}),
    ({"object_type": "mirror"}, {"object_type": "mirror"}),
    ({"action": "update"}, {"action": "update"}),
    ({"object_type": "secret", "action": "create"}, {"object_type": "secret", "action": "create"}),
])
def test_each_filter_narrows_the_list(viewer_client, story, params, expected):
    # An entry with no person, so the "system" filter has something to find.
    audit_record(action="push_result", object_type="node", object_id=story["node"].pk, node=story["node"])
    everything = ids_in(viewer_client.get("/history/"))
    narrowed = ids_in(viewer_client.get("/history/", params))
    wanted = set(AuditEvent.objects.filter(**expected).values_list("pk", flat=True))
    assert narrowed == wanted and wanted and narrowed < everything


def test_the_request_id_filter_shows_what_one_request_did(viewer_client, story):
    update = AuditEvent.objects.get(object_type="mirror", action="update")
    same_request = set(AuditEvent.objects.filter(request_id=update.request_id).values_list("pk", flat=True))
    assert ids_in(viewer_client.get("/history/", {"request_id": update.request_id})) == same_request
    page = viewer_client.get("/history/").content.decode()
    assert f'href="/history/?request_id={update.request_id}"' in page


def test_the_date_range_keeps_the_days_it_names(viewer_client, story):
    today = timezone.localdate()
    assert ids_in(viewer_client.get("/history/", {"date_from": today.isoformat(), "date_to": today.isoformat()}))
    assert not ids_in(viewer_client.get("/history/", {"date_to": (today - timedelta(days=1)).isoformat()}))
    assert not ids_in(viewer_client.get("/history/", {"date_from": (today + timedelta(days=1)).isoformat()}))


def test_a_bad_filter_value_is_reported_ignored_and_answered_400(viewer_client, story):
    r = viewer_client.get("/history/", {"date_from": "yesterday", "action": "erase"})
    html = r.content.decode()
    assert r.status_code == 400 and "From must be a date" in html and "Unknown action" in html
    assert ids_in(r) == set(AuditEvent.objects.values_list("pk", flat=True))


def test_pages_hold_fifty_entries_and_link_to_older_and_newer_ones(viewer_client, db):
    with acting(username="pager"):
        for i in range(120):
            audit_record(action="update", object_type="mirror", object_id=f"m{i}", object_repr=f"m{i}")
    newest = list(AuditEvent.objects.order_by("-time", "-id").values_list("pk", flat=True))
    first = viewer_client.get("/history/")
    assert ids_in(first) == set(newest[:50])
    html = first.content.decode()
    assert "Newer" not in html and 'id="history-older"' in html
    older_url = html.split('id="history-older"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = viewer_client.get(older_url)
    assert ids_in(second) == set(newest[50:100])
    third_url = second.content.decode().split('id="history-older"')[0].rsplit('href="', 1)[1].split('"')[0]
    third = viewer_client.get(third_url.replace("&amp;", "&"))
    assert ids_in(third) == set(newest[100:])
    assert 'id="history-older"' not in third.content.decode()
    newer_url = third.content.decode().split('rel="prev"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert ids_in(viewer_client.get(newer_url.replace("&amp;", "&"))) == set(newest[50:100])


def test_paging_keeps_the_filters(viewer_client, db):
    with acting(username="pager"):
        for i in range(120):
            audit_record(action="update" if i % 2 else "create", object_type="mirror", object_repr=f"m{i}")
    html = viewer_client.get("/history/", {"action": "update"}).content.decode()
    assert "action=update&amp;before=" in html


def test_an_htmx_request_gets_only_the_results_and_a_clean_url(viewer_client, story):
    full = viewer_client.get("/history/", {"user": "bob", "cluster": ""})
    part = viewer_client.get("/history/", {"user": "bob", "cluster": "", "action": ""}, HTTP_HX_REQUEST="true")
    assert b"<html" in full.content and b"<html" not in part.content
    assert b'id="history-filters"' not in part.content and b"history-table" in part.content
    assert part["HX-Push-Url"] == "/history/?user=bob"
    assert ids_in(part) == ids_in(full)
    assert b"/history/export.csv?user=bob" in part.content, "the export link follows the filters"


def test_htmx_restoring_its_history_gets_the_full_page(viewer_client, story):
    r = viewer_client.get("/history/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert b"<html" in r.content


def test_an_entry_shows_its_changes_before_and_after(viewer_client, story):
    update = AuditEvent.objects.get(object_type="mirror", action="update")
    part = viewer_client.get(f"/history/{update.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in part
    before = part.split('class="before"')[1].split("</td>")[0]
    after = part.split('class="after"')[1].split("</td>")[0]
    assert "https://a.example.com" in before and "https://b.example.com" not in before
    assert "https://b.example.com" in after and 'class="line add"' in after
    assert "/clusters/prod/revisions/compare/?a=1&amp;b=2" in part
    page = viewer_client.get(f"/history/{update.pk}/").content.decode()
    assert "<html" in page and "bob" in page and "https://b.example.com" in page


def test_the_csv_export_has_the_filtered_rows_and_no_secret(viewer_client, story):
    r = viewer_client.get("/history/export.csv", {"cluster": "prod", "object_type": "mirror"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    body = b"".join(r.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    wanted = AuditEvent.objects.filter(cluster_name="prod", object_type="mirror")
    assert [int(x) for x in (row["revision"] for row in rows)] == [e.revision for e in wanted]
    assert {row["object_type"] for row in rows} == {"mirror"} and len(rows) == 2
    assert json.loads(rows[0]["changes"]) == {"endpoints": [["https://a.example.com"], ["https://b.example.com"]]}
    assert rows[0]["time"].endswith("+00:00") and rows[0]["actor"] == "bob"
    everything = b"".join(viewer_client.get("/history/export.csv").streaming_content).decode()
    assert len(list(csv.DictReader(io.StringIO(everything)))) == AuditEvent.objects.count()
    assert PW not in everything


def test_csv_cells_cannot_become_spreadsheet_formulas(viewer_client, db):
    audit_record(action="update", object_type="mirror", object_repr="=HYPERLINK(\"x\")", message="-1+1")
    body = b"".join(viewer_client.get("/history/export.csv").streaming_content).decode()
    row = next(csv.DictReader(io.StringIO(body)))
    assert row["object"].startswith("'=") and row["message"] == "'-1+1"


def test_no_secret_value_appears_in_any_history_view(admin_client, story):
    from regui.audit.models import Revision

    entries = list(AuditEvent.objects.all())
    pages = ["/history/", "/history/?object_type=secret", "/clusters/prod/history/", "/clusters/edge/history/",
             f"/clusters/prod/nodes/{story['node'].pk}/history/", "/secrets/lone/history/",
             "/clusters/prod/revisions/", "/clusters/prod/revisions/1/", "/clusters/prod/revisions/compare/?a=1&b=2",
             "/clusters/prod/revisions/compare/?a=1&b=2&mode=side&context=all"]
    pages += [f"/history/{e.pk}/" for e in entries]
    for url in pages:
        r = admin_client.get(url)
        assert r.status_code == 200, url
        assert PW not in r.content.decode(), url
    for e in entries:
        assert PW not in admin_client.get(f"/history/{e.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert PW not in b"".join(admin_client.get("/history/export.csv").streaming_content).decode()
    assert all(PW not in r.yaml_redacted for r in Revision.objects.all())


WRITE_URLS = ["/history/", "/history/export.csv", "/history/{pk}/", "/history/{pk}/object/",
              "/clusters/prod/history/", "/clusters/prod/nodes/{node}/history/", "/secrets/lone/history/",
              "/clusters/prod/revisions/", "/clusters/prod/revisions/1/", "/clusters/prod/revisions/compare/"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_history_urls_refuse_writes_and_nothing_changes(admin_client, story, method):
    before = list(AuditEvent.objects.order_by("id").values())
    entry = AuditEvent.objects.get(object_type="mirror", action="update")
    for url in WRITE_URLS:
        url = url.format(pk=entry.pk, node=story["node"].pk)
        r = getattr(admin_client, method)(url, {"action": "delete", "message": "rewritten"},
                                          content_type="application/json")
        assert r.status_code == 405, (method, url)
    assert list(AuditEvent.objects.order_by("id").values()) == before


def test_a_browser_post_without_a_csrf_token_is_refused_too(make_user, story):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("carol", "admin"))
    entry = AuditEvent.objects.first()
    count = AuditEvent.objects.count()
    assert client.post(f"/history/{entry.pk}/", {"message": "x"}).status_code in (403, 405)
    # Reading the page leaves no entry either (only changes, logins, reveals and downloads do).
    assert AuditEvent.objects.count() == count


def test_each_tab_shows_only_its_own_entries(viewer_client, story):
    prod, node, lone = story["prod"], story["node"], story["lone"]
    for url, expected in [
        ("/clusters/prod/history/", {"cluster_id_ref": prod.pk}),
        (f"/clusters/prod/nodes/{node.pk}/history/", {"node_id_ref": node.pk}),
        ("/secrets/lone/history/", {"secret_id_ref": lone.pk}),
    ]:
        r = viewer_client.get(url)
        wanted = set(AuditEvent.objects.filter(**expected).values_list("pk", flat=True))
        assert r.status_code == 200 and wanted and ids_in(r) == wanted, url
        # The tab's filters and pages stay inside it; widening it through parameters does not work.
        assert ids_in(viewer_client.get(url, {"cluster_id": story["edge"].pk})) == wanted
    part = viewer_client.get("/clusters/prod/history/", {"object_type": "node"}, HTTP_HX_REQUEST="true")
    assert ids_in(part) == set(AuditEvent.objects.filter(cluster_id_ref=prod.pk, object_type="node")
                               .values_list("pk", flat=True))
    assert part["HX-Push-Url"] == "/clusters/prod/history/?object_type=node"


def test_the_tabs_are_linked_from_cluster_node_and_secret_pages(operator_client, story):
    node = story["node"]
    assert b'href="/clusters/prod/history/"' in operator_client.get("/clusters/prod/nodes/").content
    detail = operator_client.get(f"/clusters/prod/nodes/{node.pk}/").content.decode()
    assert f'href="/clusters/prod/nodes/{node.pk}/history/"' in detail
    assert b'href="/secrets/lone/history/"' in operator_client.get("/secrets/").content
    assert b'href="/secrets/lone/history/"' in operator_client.get("/secrets/lone/").content


def test_a_deleted_secret_keeps_its_history_tab(operator_client, story):
    from regui.registries.services import secret_delete

    with acting(story["ada"]):
        secret_delete(secret=Secret.objects.get(name="lone"))
    r = operator_client.get("/secrets/lone/history/")
    assert r.status_code == 200 and b"deleted" in r.content
    assert len(ids_in(r)) == 3
    assert operator_client.get("/secrets/never-existed/history/").status_code == 404


def test_an_entry_links_to_its_object_or_says_it_is_gone(viewer_client, story):
    update = AuditEvent.objects.get(object_type="mirror", action="update")
    assert viewer_client.get(f"/history/{update.pk}/object/")["Location"] == "/clusters/prod/"
    node_entry = AuditEvent.objects.get(object_type="node")
    assert viewer_client.get(f"/history/{node_entry.pk}/object/")["Location"] == (
        f"/clusters/prod/nodes/{story['node'].pk}/")
    story["edge"].delete()
    edge_entry = AuditEvent.objects.filter(cluster_name="edge").first()
    r = viewer_client.get(f"/history/{edge_entry.pk}/object/", follow=True)
    assert "no longer exists" in r.content.decode() and ids_in(r)


def test_the_cluster_filter_finds_a_renamed_clusters_older_entries(viewer_client, story):
    edge = story["edge"]
    edge.name = "edge-2"
    edge.save()
    assert ids_in(viewer_client.get("/history/", {"cluster": "edge-2"})) == set(
        AuditEvent.objects.filter(cluster_id_ref=edge.pk).values_list("pk", flat=True))


def test_the_page_costs_the_same_queries_however_many_entries(viewer_client, db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as q:
            assert viewer_client.get("/history/").status_code == 200
        return len(q.captured_queries)

    audit_record(action="create", object_type="cluster", object_repr="c")
    few = count()
    with acting(username="many"):
        for i in range(150):
            audit_record(action="update", object_type="mirror", object_repr=f"m{i}", changes={"x": [i, i + 1]})
    assert count() == few
    part_queries = CaptureQueriesContext(connection)
    with part_queries:
        viewer_client.get("/history/", {"cluster": "prod"}, HTTP_HX_REQUEST="true")
    assert len(part_queries.captured_queries) <= few
