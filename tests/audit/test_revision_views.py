"""Revisions: the list with the nodes that have each one, compare (unified and side by side), the
redacted file, restore (operators only, refused for deleted secrets), and a node's "has revision N"."""

from __future__ import annotations

import pytest

from regui.audit import diff
from regui.audit.context import acting
from regui.audit.models import Revision
from regui.core.fingerprints import file_fingerprint
from regui.inventory.models import Node
from regui.registries.models import Cluster, Secret
from tests.audit.helpers import edit_endpoint

pytestmark = pytest.mark.django_db

PW = "Rev1sion-Secret-Pw-77"




@pytest.fixture
def revised(make_user, cluster):
    """prod at revision 3: r1 imported with a password secret, r2 and r3 change the mirror endpoint."""
    from regui.registries.importing import registries_import

    ada = make_user("ada", "operator")
    yaml = ('mirrors:\n  docker.io:\n    endpoint: ["https://one.example.com"]\n'
            f'configs:\n  "one.example.com":\n    auth: {{username: robot, password: "{PW}"}}\n')
    with acting(ada):
        registries_import(cluster=cluster, text=yaml, replace=True, user=ada, message="first import")
    edit_endpoint(cluster, "https://two.example.com", ada, "second")
    edit_endpoint(cluster, "https://three.example.com", ada, "third")
    cluster.refresh_from_db()
    return cluster


def node(cluster: Cluster, name: str, had: Revision | str = "") -> Node:
    """A node that regui wrote revision `had` to (its sha256 and sync key), or that holds a file of this
    sha256 regui did not write."""
    sha, key = (had.sha256, had.sync_key) if isinstance(had, Revision) else (had, "")
    return Node.objects.create(cluster=cluster, name=name, address=f"{name}.example.com", last_sha256=sha,
                               last_sync_key=key)


def test_the_revision_list_shows_each_revision_and_the_nodes_that_have_it(viewer_client, revised):
    r1, r3 = (Revision.objects.get(cluster=revised, number=n) for n in (1, 3))
    a, b = node(revised, "a", r1), node(revised, "b", r3)
    node(revised, "c", "f" * 64)
    html = viewer_client.get("/clusters/prod/revisions/").content.decode()
    rows = {n: html.split(f'id="revision-{n}"')[1].split("</tr>")[0] for n in (1, 2, 3)}
    assert "ada" in rows[1] and "first import" in rows[1] and file_fingerprint(r1.sync_key)[:12] in rows[1]
    assert f"/nodes/{a.pk}/" in rows[1] and f"/nodes/{b.pk}/" in rows[3] and "—" in rows[2]
    assert "current" in rows[3] and "current" not in rows[2]
    assert html.index('id="revision-3"') < html.index('id="revision-1"'), "newest first"
    assert PW not in html


def test_the_revision_list_costs_one_query_for_all_nodes(viewer_client, revised, django_assert_max_num_queries):
    for i in range(5):
        node(revised, f"n{i}", Revision.objects.get(cluster=revised, number=1 + i % 3))
    with django_assert_max_num_queries(8):
        viewer_client.get("/clusters/prod/revisions/")


def test_the_cluster_history_tab_lists_the_revisions_too(viewer_client, revised):
    html = viewer_client.get("/clusters/prod/history/").content.decode()
    assert 'id="revisions"' in html and 'id="revision-3"' in html and 'href="/clusters/prod/revisions/"' in html


def test_compare_shows_a_redacted_unified_diff(viewer_client, revised):
    r = viewer_client.get("/clusters/prod/revisions/compare/", {"a": 1, "b": 3})
    html = r.content.decode()
    assert r.status_code == 200 and 'class="diff unified"' in html
    deleted = [row for row in html.split("<tr") if row.startswith(' class="del"')]
    added = [row for row in html.split("<tr") if row.startswith(' class="add"')]
    assert any("https://one.example.com" in row for row in deleted)
    assert any("https://three.example.com" in row for row in added)
    assert "@@ -" in html
    assert PW not in html


def test_compare_side_by_side_pairs_the_changed_lines(viewer_client, revised):
    html = viewer_client.get("/clusters/prod/revisions/compare/", {"a": 2, "b": 3, "mode": "side"}).content.decode()
    assert 'class="diff side"' in html
    replaced = [row for row in html.split("<tr") if row.startswith(' class="replace"')]
    assert any("https://two.example.com" in row and "https://three.example.com" in row for row in replaced)
    assert PW not in html


def test_compare_defaults_to_the_last_change_and_says_when_nothing_differs(viewer_client, revised):
    html = viewer_client.get("/clusters/prod/revisions/compare/").content.decode()
    assert "r2 → r3" in html and "https://three.example.com" in html
    same = viewer_client.get("/clusters/prod/revisions/compare/", {"a": 3, "b": 3}).content.decode()
    assert 'id="diff-same"' in same
    assert viewer_client.get("/clusters/prod/revisions/compare/", {"a": 1, "b": 9}).status_code == 404


def test_a_revision_page_shows_its_redacted_file(viewer_client, revised):
    html = viewer_client.get("/clusters/prod/revisions/2/").content.decode()
    assert "https://two.example.com" in html and "&lt;redacted" in html and PW not in html
    assert 'id="restore-form"' not in html, "viewers cannot restore"
    assert viewer_client.get("/clusters/prod/revisions/9/").status_code == 404


def test_restoring_makes_a_new_revision_with_that_content_ready_to_push(operator_client, revised):
    from regui.pushes.models import PushJob
    from regui.pushes.services import push_job_create

    node(revised, "agent-1")
    r1 = Revision.objects.get(cluster=revised, number=1)
    page = operator_client.get("/clusters/prod/revisions/1/").content.decode()
    assert 'id="restore-form"' in page
    r = operator_client.post("/clusters/prod/revisions/1/restore/", {"message": "back to one"}, follow=True)
    assert r.redirect_chain[-1][0] == "/clusters/prod/nodes/"
    assert "Revision 1 restored as revision 4: push it to apply" in r.content.decode()
    new = Revision.objects.get(cluster=revised, number=4)
    assert new.yaml_redacted == r1.yaml_redacted and new.sha256 == r1.sha256
    assert new.message == "back to one" and new.author_name == "olivia"
    revised.refresh_from_db()
    job = push_job_create(cluster=revised, user=None)
    assert job.status == PushJob.Status.QUEUED and job.revision == 4


def test_only_operators_restore_and_only_by_post(viewer_client, operator_client, revised):
    assert viewer_client.post("/clusters/prod/revisions/1/restore/").status_code == 403
    assert operator_client.get("/clusters/prod/revisions/1/restore/").status_code == 405
    assert Revision.objects.filter(cluster=revised).count() == 3


def test_restore_is_refused_for_a_revision_using_a_deleted_secret(operator_client, revised):
    from regui.registries.selectors import draft_from_cluster
    from regui.registries.services import registries_save, secret_delete

    revised.refresh_from_db()
    draft = draft_from_cluster(revised)
    draft.configs = []
    registries_save(cluster=revised, draft=draft)
    secret = Secret.objects.get()
    secret_delete(secret=secret)
    r = operator_client.post("/clusters/prod/revisions/1/restore/", follow=True)
    html = r.content.decode()
    assert r.redirect_chain[-1][0] == "/clusters/prod/revisions/1/"
    assert "uses deleted secret" in html and secret.name in html
    assert Revision.objects.filter(cluster=revised).count() == 4


def test_a_node_page_says_which_revision_the_node_has(viewer_client, revised):
    r2, r3 = (Revision.objects.get(cluster=revised, number=n) for n in (2, 3))
    old, current, odd, fresh = (node(revised, "old", r2), node(revised, "cur", r3),
                                node(revised, "odd", "0" * 64), node(revised, "new"))
    frag = {n.name: viewer_client.get(f"/clusters/prod/nodes/{n.pk}/revision/").content.decode()
            for n in (old, current, odd, fresh)}
    assert "revision 2" in frag["old"] and "not current" in frag["old"]
    assert "revision 3" in frag["cur"] and "not current" not in frag["cur"]
    assert "unknown content" in frag["odd"] and "not read yet" in frag["new"]
    detail = viewer_client.get(f"/clusters/prod/nodes/{old.pk}/").content.decode()
    assert f'hx-get="/clusters/prod/nodes/{old.pk}/revision/"' in detail
    tab = viewer_client.get(f"/clusters/prod/nodes/{old.pk}/history/").content.decode()
    assert "revision 2" in tab


# --- the pure diff module -------------------------------------------------------------------------


def test_unified_lines_match_difflib_and_carry_line_numbers():
    import difflib

    a, b = "a\nb\nc\nd\ne\nf\ng\nh\ni\n", "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\n"
    lines = diff.unified(a, b)
    expected = list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm=""))[2:]
    assert [ln.text if ln.kind == "hunk" else ln.sign + ln.text for ln in lines] == expected
    assert [(ln.old_no, ln.new_no) for ln in lines if ln.kind in ("del", "add")] == [(2, None), (None, 2), (None, 10)]
    assert diff.unified(a, a) == []


def test_side_by_side_rows_pair_replacements_and_skip_unchanged_runs():
    a = "\n".join(f"l{i}" for i in range(30))
    b = a.replace("l5\n", "L5\n").replace("l15\n", "") + "\nl30"
    rows = diff.side_by_side(a, b)
    kinds = [r.kind for r in rows]
    assert kinds == ["skip", *["equal"] * 3, "replace", *["equal"] * 3, "skip", *["equal"] * 3, "delete",
                     *["equal"] * 3, "skip", *["equal"] * 3, "insert"]
    (rep,) = [r for r in rows if r.kind == "replace"]
    assert (rep.old_no, rep.old, rep.new_no, rep.new) == (6, "l5", 6, "L5")
    (gone,) = [r for r in rows if r.kind == "delete"]
    assert (gone.old_no, gone.old, gone.new) == (16, "l15", None)
    full = diff.side_by_side(a, b, context=None)
    assert "skip" not in [r.kind for r in full] and len([r for r in full if r.old is not None]) == 30


def test_change_rows_render_json_and_mark_what_differs():
    rows = diff.change_rows({"endpoints": [["https://a", "https://b"], ["https://b", "https://c"]],
                             "insecure": [None, True], "name": ["x", None]})
    ep, insecure, name = rows
    assert [(ln.text.strip(), ln.mark) for ln in ep.before] == [
        ("[", ""), ('"https://a",', "del"), ('"https://b"', ""), ("]", "")]
    assert [ln.mark for ln in ep.after if "https://c" in ln.text] == ["add"]
    assert insecure.before_absent and [ln.text for ln in insecure.after] == ["true"]
    assert name.after_absent and [ln.text for ln in name.before] == ['"x"']


def test_restoring_after_a_secret_changed_says_the_file_uses_its_current_value(operator_client, revised):
    from regui.registries.services import SecretInput, secret_save

    secret = Secret.objects.get()
    secret_save(data=SecretInput(name=secret.name, kind=secret.kind, username=secret.username,
                                 password="a-newer-password-2"), existing=secret)
    r = operator_client.post("/clusters/prod/revisions/1/restore/", follow=True)
    html = r.content.decode()
    assert "Revision 1 restored as revision" in html
    assert f"secret(s) {secret.name} changed since" in html and "current values" in html
    assert "a-newer-password-2" not in html
    r1 = Revision.objects.get(cluster=revised, number=1)
    assert Revision.objects.filter(cluster=revised).order_by("-number").first().sha256 != r1.sha256


def test_an_exact_restore_carries_no_warning(operator_client, revised):
    html = operator_client.post("/clusters/prod/revisions/1/restore/", follow=True).content.decode()
    assert "Revision 1 restored as revision" in html and "differs from revision" not in html
