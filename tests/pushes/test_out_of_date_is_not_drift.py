"""A node that still holds what regui last wrote there, after the registries were saved since, is "out of
date", not "drifted": nothing changed on the node, a push sends the new file. "Drifted" stays for a file
changed on the node and for one regui never wrote. It said "drifted" for both, so after every save every
node read as hand-edited until the next push."""

from __future__ import annotations

import re

import pytest

from regui.audit.models import AuditEvent
from regui.inventory.models import Node
from regui.pushes.outcome import job_outcome
from regui.pushes.selectors import node_rows
from regui.registries.importing import registries_import
from tests.fakes.fleet import YAML

pytestmark = pytest.mark.django_db(transaction=True)

MAIN = "/etc/rancher/k3s/registries.yaml"
SAVED = YAML.replace("mirror.example.com:5000\"]", "mirror.example.com:5001\"]")
assert SAVED != YAML


def save(fleet) -> None:
    """The registries saved in regui: another endpoint for docker.io."""
    registries_import(cluster=fleet.cluster, text=SAVED, replace=True)


def badges(cluster) -> dict[str, str]:
    return {r.node.name: r.badge for r in node_rows(cluster)}


@pytest.fixture
def pushed(fleet):
    fleet.add("server", "agent", "agent")
    fleet.push()
    return fleet


def test_after_a_save_the_nodes_are_out_of_date_at_once_and_a_drift_check_says_so_too(pushed):
    save(pushed)
    assert badges(pushed.cluster) == {"s1": "out_of_date", "a1": "out_of_date", "a2": "out_of_date"}
    results = pushed.results(pushed.push(kind="drift"))
    assert {n: r.status for n, r in results.items()} == {"s1": "out_of_date", "a1": "out_of_date", "a2": "out_of_date"}
    assert set(Node.objects.values_list("sync_state", flat=True)) == {"out_of_date"}
    assert badges(pushed.cluster) == {"s1": "out_of_date", "a1": "out_of_date", "a2": "out_of_date"}


def test_a_file_changed_on_the_node_is_drifted_whether_or_not_the_registries_were_saved_since(pushed):
    pushed["a1"].write(MAIN, b"# edited by hand\n")
    save(pushed)
    results = pushed.results(pushed.push(kind="drift"))
    assert {n: r.status for n, r in results.items()} == {"s1": "out_of_date", "a1": "drifted", "a2": "out_of_date"}
    assert results["a1"].message == f"differs from what regui last wrote there: {MAIN}"
    assert badges(pushed.cluster)["a1"] == "drifted"


def test_a_file_regui_never_wrote_is_drifted_even_when_it_is_the_render(fleet):
    (node,) = fleet.add("agent")
    fleet.push()
    Node.objects.filter(pk=node.pk).update(last_sync_key="")  # as a node read back by a drift check
    assert badges(fleet.cluster) == {"a1": "drifted"}


def test_a_push_brings_out_of_date_nodes_back_in_sync(pushed):
    save(pushed)
    pushed.push(kind="drift")
    results = pushed.results(pushed.push())
    assert {r.status for r in results.values()} == {"changed"}
    assert set(badges(pushed.cluster).values()) == {"in_sync"}
    assert set(Node.objects.values_list("sync_state", flat=True)) == {"in_sync"}


def test_a_save_undone_makes_a_node_found_out_of_date_in_sync_again_without_a_check(pushed):
    from regui.registries.selectors import cluster_sync_key

    key = cluster_sync_key(pushed.cluster)
    Node.objects.update(sync_state=Node.Sync.OUT_OF_DATE)  # as a check found after a save since undone
    assert Node.objects.filter(last_sync_key=key).count() == 3
    assert set(badges(pushed.cluster).values()) == {"in_sync"}


def test_a_persons_drift_check_records_no_history_for_nodes_merely_out_of_date(pushed):
    pushed["a1"].write(MAIN, b"# edited by hand\n")
    save(pushed)
    before = AuditEvent.objects.filter(action="push_result").count()
    pushed.push(kind="drift")
    entries = AuditEvent.objects.filter(action="push_result").order_by("pk")[before:]
    assert [(e.object_repr, e.changes["status"][1]) for e in entries] == [("a1", "drifted")]


def test_the_job_counts_out_of_date_apart_and_succeeds(pushed):
    save(pushed)
    pushed["a1"].write(MAIN, b"# edited by hand\n")
    outcome = job_outcome(pushed.push(kind="drift"))
    assert outcome.text == "succeeded on all 3 nodes (2 out of date, 1 drifted)"


def test_the_node_list_says_out_of_date_with_why_and_filters_and_counts_it(pushed, client):
    save(pushed)
    pushed["a1"].write(MAIN, b"# edited by hand\n")
    pushed.push(kind="drift")
    client.force_login(pushed.user)
    page = client.get("/clusters/prod/nodes/").content.decode()
    assert page.count('data-badge="out_of_date">out of date</span>') == 2
    assert page.count("saved since regui wrote it: a push sends the new file") == 2
    assert ">out of date (2)</option>" in page and ">drifted (1)</option>" in page
    listed = client.get("/clusters/prod/nodes/?sync=out_of_date").content.decode()
    assert re.findall(r'<tr id="node-row-\d+" class="node-row".*?>([\w-]+)</a>', listed, re.S) == ["s1", "a2"]


def test_the_cluster_list_says_out_of_date_apart_from_drift_without_alarm(pushed, client):
    from regui.pushes.drift_watch import DriftWatch

    DriftWatch.objects.create(cluster=pushed.cluster, interval_minutes=5)
    save(pushed)
    pushed.push(kind="drift")
    client.force_login(pushed.user)
    page = client.get("/").content.decode()
    assert 'data-drifted="0"' in page and 'data-out-of-date="3"' in page
    (cell,) = re.findall(r'<span class="drift-badge".*?drift-watch-state">.*?</span>', page, re.S)
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() == \
        "no drift 3 out of date · watched every 5 min"
    assert '<span class="muted" data-badge="out_of_date">3 out of date</span>' in cell


def drift_cell(client) -> dict[str, str]:
    page = client.get("/").content.decode()
    (cell,) = re.findall(r'<span class="drift-badge"([^>]*)>', page)
    return dict(re.findall(r'data-([\w-]+)="(\d+)"', cell))


def test_the_cluster_list_counts_nodes_out_of_date_after_a_save_before_any_check_as_the_node_list_does(pushed, client):
    save(pushed)
    client.force_login(pushed.user)
    assert set(badges(pushed.cluster).values()) == {"out_of_date"}
    assert drift_cell(client)["out-of-date"] == "3"


def test_the_cluster_list_counts_no_node_out_of_date_once_the_save_is_undone(pushed, client):
    Node.objects.update(sync_state=Node.Sync.OUT_OF_DATE)  # as a check found after a save since undone
    client.force_login(pushed.user)
    assert set(badges(pushed.cluster).values()) == {"in_sync"}
    assert drift_cell(client)["out-of-date"] == "0"


def test_the_cluster_list_counts_a_file_regui_never_wrote_as_drifted_as_the_node_list_does(pushed, client):
    Node.objects.filter(name="a1").update(last_sync_key="")  # read by regui, never known to be a render
    client.force_login(pushed.user)
    assert badges(pushed.cluster)["a1"] == "drifted"
    assert drift_cell(client)["drifted"] == "1"
