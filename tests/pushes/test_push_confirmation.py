"""Confirm before a push (issue 11 item 6): a page shows which nodes, in which order (servers one at a
time, agents in parallel), which restart, and what changes on each (the redacted diff against the
revision the node last had; "unknown, will be replaced" when regui does not know its file), with
"write only" as a choice; only its POST queues, and it refuses when no target node has an approved
host key, saying which. Fake nodes, Celery eager (the `fleet` fixture)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from regui.inventory.models import Node
from regui.pushes.confirm import push_preview
from regui.pushes.models import PushJob
from regui.pushes.plan import Policy, push_plan
from regui.registries.importing import registries_import

pytestmark = pytest.mark.django_db(transaction=True)
QUAY = "mirrors:\n  quay.io:\n    endpoint: [https://q.example.com]\n"


@dataclass(frozen=True)
class Named:
    name: str
    role: str


@pytest.fixture
def client_for(fleet):
    fleet.cluster.refresh_from_db()  # its revision, as the page shows it
    client = Client()
    client.force_login(fleet.user)
    return client


def test_the_order_is_servers_one_at_a_time_then_agents_in_parallel_batches():
    nodes = [Named(n, r) for n, r in [("a2", "agent"), ("s2", "server"), ("a1", "agent"), ("s1", "server"),
                                      ("a3", "agent")]]
    steps = push_plan(None, nodes, Policy(agents_at_once="2")).order()
    assert [(s.role, s.names) for s in steps] == [("server", ("s1", "s2")), ("agent", ("a1", "a2", "a3"))]
    assert steps[0].text.startswith("2 servers first, in this order (servers go one at a time")
    assert steps[1].text.startswith("3 agents in 2 batches of up to 2, after the servers, in this order")
    (only,) = push_plan(None, [Named("a1", "agent")], Policy(agents_at_once="10")).order()
    assert only.names == ("a1",) and only.text.startswith("1 agent, in this order")
    assert push_plan(None, [], Policy()).order() == []


def test_the_plan_diffs_each_node_against_the_revision_it_last_had(fleet):
    s1, a1 = fleet.add("server", "agent")
    fleet.push([s1, a1])
    (a2,) = fleet.add("agent")
    fleet.cluster.refresh_from_db()
    first = fleet.cluster.revision
    registries_import(cluster=fleet.cluster, text=QUAY, replace=False)
    fleet.cluster.refresh_from_db()
    nodes = list(Node.objects.select_related("cluster").order_by("name"))
    preview = push_preview(fleet.cluster, nodes, restart=True)
    assert not preview.refused
    assert [p.node.name for p in preview.nodes] == ["s1", "a1", "a2"]
    plans = {p.node.name: p for p in preview.nodes}
    assert plans["s1"].content == f"revision {first}" and plans["a2"].content == "never read: unknown, will be replaced"
    assert plans["s1"].restart == "restarts k3s if its file changes"
    assert plans["a1"].restart == "restarts k3s-agent if its file changes"
    changes = {c.key: c for c in preview.changes}
    assert changes[f"r{first}"].nodes == ["s1", "a1"] and changes["unknown"].nodes == ["a2"]
    added = [ln.text for ln in changes[f"r{first}"].lines if ln.kind == "add"]
    assert any("quay.io" in t for t in added)
    assert not any("push-secret-7Q" in ln.text for c in preview.changes for ln in c.lines)


def test_the_pages_diff_is_laid_out_as_the_other_diffs_with_its_indentation(fleet, client_for):
    fleet.push(fleet.add("agent"))
    registries_import(cluster=fleet.cluster, text=QUAY, replace=False)
    text = client_for.get("/clusters/prod/push/confirm/?scope=all").content.decode()
    # history.css lays out table.diff (white-space: pre-wrap): without it the YAML lost its indentation.
    assert '<table class="diff unified">' in text and "/static/css/history.css" in text


def test_a_node_that_already_has_the_file_will_not_restart_and_write_only_restarts_none(fleet):
    (a1,) = fleet.add("agent")
    fleet.push()
    a1.refresh_from_db()
    (plan,) = push_preview(fleet.cluster, [a1], restart=True).nodes
    assert plan.restart == "no restart: its file is already this one"
    registries_import(cluster=fleet.cluster, text=QUAY, replace=False)
    fleet.cluster.refresh_from_db()
    (plan,) = push_preview(fleet.cluster, [a1], restart=False).nodes
    assert plan.restart == "no restart (write only)"


def test_no_target_with_an_approved_host_key_is_refused_naming_them(fleet, client_for):
    fleet.add("agent", "agent", approve=False)
    page = client_for.get("/clusters/prod/push/confirm/?scope=all")
    text = page.content.decode()
    assert page.status_code == 409 and 'id="push-refused"' in text and "a1, a2" in text
    assert 'id="push-confirm-form"' not in text
    r = client_for.post("/clusters/prod/push/confirm/", {
        "confirm": "1", "revision": fleet.cluster.revision, "nodes": [n.pk for n in fleet.nodes]})
    assert r.status_code == 409 and "Nothing was queued" in r.content.decode()
    assert not PushJob.objects.exists()


def test_some_nodes_without_a_key_are_named_but_the_others_may_be_pushed(fleet, client_for):
    fleet.add("agent")
    fleet.add("agent", approve=False)
    text = client_for.get("/clusters/prod/push/confirm/?scope=all").content.decode()
    assert 'id="push-without-key"' in text and "will fail and get nothing: a2." in text
    assert "Expected restarts: 1 of 2." in text, "a node without an approved key gets nothing, restarts nothing"
    assert 'data-if-restart="no restart: nothing is sent (no approved host key)"' in text


def test_showing_the_plan_queues_nothing_and_confirming_pushes_the_nodes_shown(fleet, client_for):
    fleet.add("server", "agent")
    page = client_for.get("/clusters/prod/push/confirm/?scope=all")
    assert page.status_code == 200 and not PushJob.objects.exists()
    text = page.content.decode()
    assert "Push to 2 nodes" in text and "unknown, will be replaced" in text
    r = client_for.post("/clusters/prod/push/confirm/", {
        "confirm": "1", "scope": "all", "revision": fleet.cluster.revision, "nodes": [n.pk for n in fleet.nodes]})
    job = PushJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    assert job.restart and sorted(job.results.values_list("node_name", flat=True)) == ["a1", "s1"]
    assert job.results.filter(status="changed").count() == 2


def test_write_only_is_a_choice_on_the_confirmation(fleet, client_for):
    (a1,) = fleet.add("agent")
    text = client_for.get(f"/clusters/prod/push/confirm/?node={a1.pk}&write_only=1").content.decode()
    assert "no restart (write only)" in text and 'id="confirm-write-only" checked' in text
    assert 'data-if-restart="restarts k3s-agent if its file changes"' in text, "for the box's script"
    client_for.post("/clusters/prod/push/confirm/", {"confirm": "1", "node": a1.pk, "write_only": "1",
                                                     "revision": fleet.cluster.revision, "nodes": [a1.pk]})
    job = PushJob.objects.get()
    assert not job.restart and not job.results.get().restarted


def test_the_node_lists_push_buttons_lead_to_the_plan(fleet, client_for):
    (a1,) = fleet.add("agent")
    r = client_for.post("/clusters/prod/push/confirm/", {"scope": "failed", "write_only": "1"})
    assert r.status_code == 302 and r["Location"] == "/clusters/prod/push/confirm/?scope=failed&write_only=1"
    r = client_for.get(r["Location"])
    assert r.status_code == 302 and r["Location"] == "/clusters/prod/nodes/", "no failed node: nothing to show"
    text = client_for.get(f"/clusters/prod/push/confirm/?node={a1.pk}").content.decode()
    assert "Push to a1?" in text and "Push to 1 node" in text
    assert not PushJob.objects.exists()


def test_a_plan_shown_before_the_registries_changed_is_not_queued(fleet, client_for):
    (a1,) = fleet.add("agent")
    shown = fleet.cluster.revision
    registries_import(cluster=fleet.cluster, text=QUAY, replace=False)
    r = client_for.post("/clusters/prod/push/confirm/", {"confirm": "1", "revision": shown, "nodes": [a1.pk]})
    assert r.status_code == 409 and "changed since this page was shown" in r.content.decode()
    assert not PushJob.objects.exists()


def test_a_viewer_cannot_see_or_confirm_a_push(fleet):
    from tests.conftest import _client_for

    viewer = _client_for(fleet.user.__class__.objects.create_user("vera"))
    assert viewer.get("/clusters/prod/push/confirm/").status_code == 403
    assert viewer.post("/clusters/prod/push/confirm/", {"confirm": "1"}).status_code == 403


def test_the_plan_costs_the_same_queries_for_many_nodes_as_for_a_few(fleet, django_assert_max_num_queries):
    fleet.add("server", *["agent"] * 20)
    fleet.push()
    fleet.add("agent")
    fleet.cluster.refresh_from_db()
    nodes = list(Node.objects.select_related("cluster").order_by("name"))
    with django_assert_max_num_queries(12):
        preview = push_preview(fleet.cluster, nodes, restart=True)
    assert len(preview.nodes) == 22 and [(c.key, len(c.nodes)) for c in preview.changes] == [("r1", 21), ("unknown", 1)]


def test_a_plan_refused_for_lint_errors_never_says_a_node_on_an_older_revision_has_no_change(fleet, client_for):
    # Nothing is rendered to compare with: "no change (already this file)" for a node on revision 1 of 2 was wrong.
    fleet.push(fleet.add("agent"))
    first = fleet.cluster.revision
    registries_import(cluster=fleet.cluster, text='mirrors:\n  "*":\n    endpoint: [https://a.example.com]\n'
                      '  _default:\n    endpoint: [https://b.example.com]\n', replace=False)
    fleet.cluster.refresh_from_db()
    preview = push_preview(fleet.cluster, list(Node.objects.select_related("cluster")), restart=True)
    assert preview.refused.startswith("Lint errors must be fixed before a push")
    (change,) = preview.changes
    assert change.key == f"r{first}" and not change.unchanged
    text = client_for.get("/clusters/prod/push/confirm/?scope=all").content.decode()
    assert "no change (already this file)" not in text and f"a1: from revision {first}" in text
