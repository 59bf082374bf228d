"""'Scan all unscanned' in a big cluster: each press goes on after the nodes the press before tried, so
nodes that cannot be reached (they stay unscanned) no longer fill every batch and keep the rest from
ever being scanned; and the host keys page names a few nodes of a long list and counts the rest."""

from __future__ import annotations

import pytest

from regui.inventory.known_hosts import scan_unscanned
from regui.inventory.models import Node
from tests.fakes.fleet import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_down_two_up(fake_ssh, cluster):
    for name in ("a1", "a2"):
        register(cluster, fake_ssh.node(name, network="refused"), approve=False)
    return [register(cluster, fake_ssh.node(name), approve=False) for name in ("a3", "a4")]


def test_a_batch_says_which_node_it_ended_on(two_down_two_up, cluster):
    report = scan_unscanned(cluster=cluster, batch=2)
    assert [n.name for n, _ in report.failed] == ["a1", "a2"] and report.last == "a2" and report.left == 2


def test_the_next_press_goes_on_after_the_nodes_that_could_not_be_reached(two_down_two_up, cluster):
    report = scan_unscanned(cluster=cluster, batch=2, after="a2")
    assert [n.name for n, _ in report.scanned] == ["a3", "a4"] and not report.failed and report.left == 0


def test_the_page_carries_where_the_batch_ended_to_the_next_press(two_down_two_up, cluster, operator_client,
                                                                   monkeypatch):
    from regui.inventory import known_hosts

    monkeypatch.setattr(known_hosts, "SCAN_BATCH", 2)
    page = operator_client.post(f"/clusters/{cluster.name}/nodes/host-keys/scan/").content.decode()
    assert "Scan of a1 failed" in page and '<input type="hidden" name="after" value="a2">' in page
    page = operator_client.post(f"/clusters/{cluster.name}/nodes/host-keys/scan/", {"after": "a2"}).content.decode()
    assert "a3 presents" in page and "a4 presents" in page and "Scan of a1" not in page


def test_a_long_list_of_unscanned_or_waiting_nodes_is_named_in_part(cluster, operator_client):
    Node.objects.bulk_create(Node(cluster=cluster, name=f"n{i:03}", address=f"10.0.0.{i + 1}") for i in range(30))
    Node.objects.bulk_create(Node(cluster=cluster, name=f"w{i:03}", address=f"10.0.1.{i + 1}", scanned_key="AAAA",
                                  scanned_key_type="ssh-ed25519") for i in range(30))
    page = operator_client.get(f"/clusters/{cluster.name}/nodes/host-keys/").content.decode()
    assert "30 nodes without a scanned or approved key" in page
    assert ">n019</a>" in page and ">n020</a>" not in page and "and 10 more" in page
    assert "w019" in page and "w020" not in page


@pytest.mark.postgresql  # a collation other than the code points' (deselected on SQLite)
def test_the_next_press_goes_on_in_the_databases_order_of_names_not_pythons(fake_ssh, cluster):
    """PostgreSQL's usual collations (en_US, ICU) order 'a1' before 'B2', Python's < the other way round: a
    press after 'B2' must not try 'a1' again and leave 'D4' for a press that starts over at 'a1'."""
    from django.db import connection

    with connection.cursor() as cursor:  # rolled back with the test, as its rows are
        cursor.execute(f'ALTER TABLE {Node._meta.db_table} ALTER COLUMN name TYPE varchar(63) COLLATE "en-x-icu"')
    for name in ("a1", "B2"):
        register(cluster, fake_ssh.node(name, network="refused"), approve=False)
    for name in ("c3", "D4"):
        register(cluster, fake_ssh.node(name), approve=False)
    assert scan_unscanned(cluster=cluster, batch=2).last == "B2"
    report = scan_unscanned(cluster=cluster, batch=2, after="B2")
    assert [n.name for n, _ in report.scanned] == ["c3", "D4"] and not report.failed and report.left == 0


def test_a_forged_after_with_a_nul_in_it_is_not_an_error(two_down_two_up, cluster, operator_client):
    response = operator_client.post(f"/clusters/{cluster.name}/nodes/host-keys/scan/", {"after": "a2\x00"})
    assert response.status_code == 200 and "a3 presents" in response.content.decode()


@pytest.mark.parametrize("after", ["zzzz", "a4", "\uffff" * 63])
def test_a_forged_after_past_the_last_node_does_not_say_every_node_has_a_key(two_down_two_up, cluster,
                                                                             operator_client, after):
    """The hidden field is only where the press before ended: past every unscanned node, the press starts
    over at the first, and never says each node has a key while some have none."""
    response = operator_client.post(f"/clusters/{cluster.name}/nodes/host-keys/scan/", {"after": after})
    page = response.content.decode()
    assert response.status_code == 200 and "has a scanned or approved host key" not in page
    assert "Scan of a1 failed" in page and "a3 presents" in page


def test_a_press_that_finds_every_node_scanned_says_so(two_down_two_up, cluster, operator_client):
    Node.objects.filter(cluster=cluster).update(scanned_key="AAAA", scanned_key_type="ssh-ed25519")
    page = operator_client.post(f"/clusters/{cluster.name}/nodes/host-keys/scan/", {"after": "zzzz"}).content.decode()
    assert "Every node has a scanned or approved host key" in page


def test_a_batch_after_the_last_unscanned_node_starts_over_at_the_first(two_down_two_up, cluster):
    report = scan_unscanned(cluster=cluster, batch=2, after="a4")
    assert [n.name for n, _ in report.failed] == ["a1", "a2"] and report.last == "a2" and report.left == 2
