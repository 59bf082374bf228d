"""The node list: a page of 50 nodes at a time, filters by role, status, label and name (bad values
are said and ignored), the same number of queries for any cluster size, busy rows that poll, and
push buttons that act on the whole cluster, not the page."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regui.inventory.models import Node
from regui.pushes.models import PushJob, PushResult
from regui.pushes.selectors import PER_PAGE
from regui.registries.selectors import cluster_render, cluster_sync_key

pytestmark = pytest.mark.django_db

URL = "/clusters/prod/nodes/"


def add_nodes(cluster, n: int, start: int = 0, **fields) -> list[Node]:
    nodes = [Node(cluster=cluster, name=f"node-{i:04d}", address=f"10.0.{i // 256}.{i % 256}", **fields)
             for i in range(start, start + n)]
    Node.objects.bulk_create(nodes)
    return list(cluster.nodes.filter(name__in=[n.name for n in nodes]))


def names(response) -> list[str]:
    return re.findall(r'<tr id="node-row-\d+" class="node-row".*?>([\w-]+)</a>', response.content.decode(), re.S)


def test_the_list_shows_a_page_of_nodes_at_a_time_and_links_to_the_others(viewer_client, cluster):
    add_nodes(cluster, 120)
    first = viewer_client.get(URL)
    assert first.status_code == 200
    assert names(first) == [f"node-{i:04d}" for i in range(PER_PAGE)]
    page = first.content.decode()
    assert "nodes 1–50 of 120 · page 1 of 3" in page and 'href="?page=2" rel="next"' in page
    third = viewer_client.get(URL + "?page=3")
    assert names(third) == [f"node-{i:04d}" for i in range(100, 120)]
    assert 'href="?page=2" rel="prev"' in third.content.decode() and 'rel="next"' not in third.content.decode()


def test_a_page_beyond_the_last_shows_the_last(viewer_client, cluster):
    add_nodes(cluster, 60)
    assert names(viewer_client.get(URL + "?page=99")) == [f"node-{i:04d}" for i in range(50, 60)]


def test_servers_come_first_then_names_in_order(viewer_client, cluster):
    add_nodes(cluster, 3, role="agent")
    add_nodes(cluster, 2, start=10, role="server")
    assert names(viewer_client.get(URL)) == ["node-0010", "node-0011", "node-0000", "node-0001", "node-0002"]


def test_the_role_filter(viewer_client, cluster):
    add_nodes(cluster, 3, role="agent")
    add_nodes(cluster, 2, start=10, role="server")
    assert names(viewer_client.get(URL + "?role=server")) == ["node-0010", "node-0011"]
    assert names(viewer_client.get(URL + "?role=agent")) == ["node-0000", "node-0001", "node-0002"]


def test_the_status_filter_matches_each_badge(viewer_client, cluster):
    # In sync: regui wrote the current render's sync key there (not: the bytes are the same).
    current, sha = cluster_sync_key(cluster), hashlib.sha256(cluster_render(cluster, reveal=True).encode()).hexdigest()
    add_nodes(cluster, 1, start=0, sync_state="in_sync", last_sha256=sha, last_sync_key=current)
    add_nodes(cluster, 1, start=1, sync_state="in_sync", last_sha256="0" * 64, last_sync_key="0" * 64)  # older
    add_nodes(cluster, 1, start=2, sync_state="drifted", last_sha256=sha, last_sync_key=current)
    add_nodes(cluster, 1, start=3)
    add_nodes(cluster, 1, start=4, sync_state="unreachable", last_sha256=sha, last_sync_key=current)
    add_nodes(cluster, 1, start=5, sync_state="in_sync", last_sha256=sha)  # the same bytes, not written by regui
    # A check found it out of date; the save was undone since (the key is the current one again).
    add_nodes(cluster, 1, start=6, sync_state="out_of_date", last_sha256=sha, last_sync_key=current)
    add_nodes(cluster, 1, start=7, sync_state="out_of_date", last_sha256="7" * 64, last_sync_key="7" * 64)
    expected = {"in_sync": ["node-0000", "node-0006"], "out_of_date": ["node-0001", "node-0007"],
                "drifted": ["node-0002", "node-0005"], "never": ["node-0003"], "unreachable": ["node-0004"]}
    for badge, wanted in expected.items():
        r = viewer_client.get(f"{URL}?sync={badge}")
        assert names(r) == wanted, badge
        assert r.content.decode().count(f'data-badge="{badge}"') == len(wanted)
    options = viewer_client.get(URL).content.decode()
    assert ">in sync (2)</option>" in options and ">out of date (2)</option>" in options
    assert ">drifted (2)</option>" in options


def test_the_label_filter_takes_a_name_or_name_equals_value(viewer_client, cluster):
    add_nodes(cluster, 1, start=0, labels={"zone": "a", "gpu": ""})
    add_nodes(cluster, 1, start=1, labels={"zone": "b"})
    add_nodes(cluster, 1, start=2, labels={"topology.kubernetes.io/zone": "a"})
    add_nodes(cluster, 1, start=3)
    assert names(viewer_client.get(URL + "?label=zone")) == ["node-0000", "node-0001"]
    assert names(viewer_client.get(URL + "?label=zone%3Db")) == ["node-0001"]
    assert names(viewer_client.get(URL + "?label=+zone+%3D+a+")) == ["node-0000"]
    assert names(viewer_client.get(URL + "?label=gpu")) == ["node-0000"]
    assert names(viewer_client.get(URL + "?label=gpu%3D")) == ["node-0000"]
    assert names(viewer_client.get(URL + "?label=topology.kubernetes.io/zone%3Da")) == ["node-0002"]
    assert names(viewer_client.get(URL + "?label=contains")) == []


def test_the_name_filter_matches_part_of_a_name(viewer_client, cluster):
    add_nodes(cluster, 30)
    assert names(viewer_client.get(URL + "?name=NODE-001")) == [f"node-{i:04d}" for i in range(10, 20)]


def test_filters_combine_and_pages_keep_them(viewer_client, cluster):
    add_nodes(cluster, 120, labels={"zone": "a"})
    add_nodes(cluster, 5, start=200, labels={"zone": "b"})
    r = viewer_client.get(URL + "?label=zone%3Da&role=agent")
    page = r.content.decode()
    assert len(names(r)) == PER_PAGE and "of 120 (of 125 in the cluster)" in page
    assert 'href="?role=agent&amp;label=zone%3Da&amp;page=2" rel="next"' in page
    assert names(viewer_client.get(URL + "?label=zone%3Db&name=0201")) == ["node-0201"]


def test_nothing_matching_says_so(viewer_client, cluster):
    add_nodes(cluster, 3)
    page = viewer_client.get(URL + "?name=nope").content.decode()
    assert "No node matches these filters." in page and "Show all 3" in page


@pytest.mark.parametrize(("query", "message"), [
    ("role=boss", "Unknown role &#x27;boss&#x27;: server or agent; ignored."),
    ("sync=happy", "Unknown status &#x27;happy&#x27;: in_sync, out_of_date, drifted, never, unreachable; ignored."),
    ("label=%3Da", "Label &#x27;=a&#x27; names no label: write name or name=value; ignored."),
    ("label=" + "x" * 300, "Label has 253 characters at most; ignored."),
    ("name=a%00b", "Name contains a control character; ignored."),
    ("page=abc", "page must be a whole number of at most 9 digits; ignored."),
    ("page=99999999999999999999", "page must be a whole number of at most 9 digits; ignored."),
])
def test_a_bad_filter_value_is_said_and_ignored_not_a_500(viewer_client, cluster, query, message):
    add_nodes(cluster, 3)
    r = viewer_client.get(f"{URL}?{query}")
    assert r.status_code == 400
    assert message in r.content.decode()
    assert names(r) == ["node-0000", "node-0001", "node-0002"]


def _busy(cluster, node: Node) -> None:
    job = PushJob.objects.create(cluster=cluster, status=PushJob.Status.RUNNING)
    PushResult.objects.create(job=job, node=node, node_name=node.name, role=node.role,
                              status=PushResult.Status.RUNNING)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as q:
        assert client.get(url).status_code == 200
    return len(q.captured_queries)


def test_a_page_costs_the_same_queries_for_10_or_300_nodes(viewer_client, cluster):
    from regui.registries.models import Cluster

    big = Cluster.objects.create(name="big", distro="k3s")
    small_nodes, big_nodes = add_nodes(cluster, 10), add_nodes(big, 300)
    for c, nodes in ((cluster, small_nodes), (big, big_nodes)):
        for node in nodes[:2]:
            _busy(c, node)
        for node in nodes[2:]:
            PushResult.objects.create(job=PushJob.objects.create(cluster=c, status=PushJob.Status.DONE), node=node,
                                      node_name=node.name, role=node.role, status=PushResult.Status.FAILED)
    for query in ("", "?role=agent&sync=never&label=x&name=node", "?sync=out_of_date"):
        assert _queries(viewer_client, URL + query) == _queries(viewer_client, "/clusters/big/nodes/" + query)


def test_busy_rows_on_a_page_poll_their_own_row(viewer_client, cluster):
    nodes = add_nodes(cluster, 60)
    _busy(cluster, nodes[55])
    page = viewer_client.get(URL + "?page=2").content.decode()
    row_url = f"/clusters/prod/nodes/{nodes[55].pk}/"
    assert f'hx-get="{row_url}" hx-trigger="every 1s"' in page and page.count("hx-trigger=") == 1
    row = viewer_client.get(row_url, HTTP_HX_REQUEST="true").content.decode()
    assert row.startswith(f'<tr id="node-row-{nodes[55].pk}"') and 'data-status="running"' in row


def test_push_buttons_act_on_every_node_of_the_cluster_not_the_page(operator_client, cluster):
    nodes = add_nodes(cluster, 60)
    for node in (nodes[3], nodes[57]):  # one on each page
        PushResult.objects.create(job=PushJob.objects.create(cluster=cluster, status=PushJob.Status.DONE),
                                  node=node, node_name=node.name, role=node.role, status=PushResult.Status.FAILED)
    listed = operator_client.get(URL + "?name=0003")
    assert names(listed) == ["node-0003"]
    assert "These act on all 60 nodes of the cluster, not only those listed." in listed.content.decode()
    failed = operator_client.get("/clusters/prod/push/confirm/?scope=failed").content.decode()
    assert "node-0003" in failed and "node-0057" in failed and "node-0004" not in failed
    everything = operator_client.get("/clusters/prod/push/confirm/?scope=all").content.decode()
    assert all(f"node-{i:04d}" in everything for i in range(60))


def test_a_node_regui_wrote_before_a_save_is_out_of_date_and_says_the_registries_were_saved_since(
        viewer_client, cluster):
    current, sha = cluster_sync_key(cluster), hashlib.sha256(cluster_render(cluster, reveal=True).encode()).hexdigest()
    add_nodes(cluster, 1, start=0, sync_state="in_sync", last_sha256="0" * 64, last_sync_key="0" * 64)  # older
    add_nodes(cluster, 1, start=1, sync_state="drifted", last_sha256="1" * 64, last_sync_key="0" * 64)  # edited
    add_nodes(cluster, 1, start=2, sync_state="in_sync", last_sha256=sha, last_sync_key=current)
    page = viewer_client.get(URL).content.decode()
    rows = {name: page[page.index(f">{name}</a>"):] for name in ("node-0000", "node-0001", "node-0002")}
    note = "saved since regui wrote it: a push sends the new file"
    assert 'data-badge="out_of_date">out of date</span>' in rows["node-0000"].split("</tr>")[0]
    assert note in rows["node-0000"].split("</tr>")[0], "out of date, and why"
    assert 'data-badge="drifted">drifted</span>' in rows["node-0001"].split("</tr>")[0]
    assert note not in rows["node-0001"].split("</tr>")[0], "changed on the node: drifted, no note"
    assert note not in rows["node-0002"].split("</tr>")[0]
    assert page.count(note) == 1
