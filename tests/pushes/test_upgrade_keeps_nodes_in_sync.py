"""Upgrading keeps the nodes that were in sync in sync: at the end of the first migrate, a node regui had
recorded in sync with the bytes of the cluster's render gets the render's sync key (so its next push says
unchanged and restarts nothing), the others the key of the bytes they hold. Once: a guess saved after the
upgrade is never answered by a later migrate, and a cluster whose render fails is left alone."""

from __future__ import annotations

import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regui.audit.models import Revision
from regui.core.crypto import generate_key
from regui.core.fingerprints import sync_key
from regui.inventory.models import Node
from regui.inventory.selectors import node_content, revision_rows
from regui.pushes.selectors import node_rows
from regui.pushes.upgrade import keep_nodes_in_sync
from regui.registries.importing import registries_import
from regui.registries.selectors import cluster_render
from tests.fakes.fleet import YAML
from tests.pushes.test_guessed_secret_answers_nothing import STORED, _save_password

pytestmark = pytest.mark.django_db(transaction=True)

MAIN = "/etc/rancher/k3s/registries.yaml"


def _upgrade() -> None:
    from django.apps import apps

    keep_nodes_in_sync(apps=apps)


def _badges(cluster) -> dict[str, str]:
    return {r.node.name: r.badge for r in node_rows(cluster)}


def _as_before_the_upgrade(cluster) -> None:
    """What regui before sync keys left: nodes with their bytes only, revisions keyed by theirs alone."""
    Node.objects.filter(cluster=cluster).update(last_sync_key="")
    for pk, sha in Revision.objects.filter(cluster=cluster).values_list("pk", "sha256"):
        Revision.objects.filter(pk=pk).update(sync_key=sync_key(sha, ()))


@pytest.fixture
def before(fleet, make_user):
    """s1, a1 in sync with revision 2; a2 recorded in sync with revision 1's bytes (pushed before the
    save of revision 2); a3 never pushed. As regui before the upgrade recorded them."""
    fleet.add("server", "agent", "agent", "agent")
    fleet.push(nodes=[n for n in fleet.nodes if n.name == "a2"])
    registries_import(cluster=fleet.cluster, text=YAML.replace("mirror.example.com:5000\"]", "mirror.example.com:5001\"]"),
                      replace=True)
    fleet.cluster.refresh_from_db()
    fleet.push(nodes=[n for n in fleet.nodes if n.name in ("s1", "a1")])
    _as_before_the_upgrade(fleet.cluster)
    fleet.operator = make_user("mallory", "operator")
    return fleet


def test_before_the_upgrade_every_node_shows_drifted_or_never(before):
    assert _badges(before.cluster) == {"s1": "drifted", "a1": "drifted", "a2": "drifted", "a3": "never"}


def test_the_upgrade_keeps_the_nodes_in_sync_with_the_render_in_sync_and_their_push_restarts_nothing(before):
    restarts = len(before.fake.restarts())
    _upgrade()
    assert _badges(before.cluster) == {"s1": "in_sync", "a1": "in_sync", "a2": "out_of_date", "a3": "never"}
    cluster = before.cluster
    cluster.refresh_from_db()
    nodes = {n.name: n for n in Node.objects.filter(cluster=cluster)}
    content = node_content(nodes["s1"])
    assert (content.kind, content.revision.number, content.current) == ("known", 2, True)
    other = node_content(nodes["a2"])  # the revision from before whose bytes it holds, not the render
    assert (other.kind, other.revision.number, other.current) == ("known", 1, False)
    held = {row.revision.number: [name for _, name in row.nodes]
            for row in revision_rows(cluster, cluster.revisions.all())}
    assert held == {2: ["a1", "s1"], 1: ["a2"]}
    results = before.results(before.push())
    assert {n: (r.status, r.restarted) for n, r in results.items()} == {
        "s1": ("unchanged", False), "a1": ("unchanged", False), "a2": ("changed", True), "a3": ("changed", True)}
    assert len(before.fake.restarts()) == restarts + 2
    assert set(_badges(cluster).values()) == {"in_sync"}


def test_a_migrate_runs_it_and_a_later_one_finds_nothing_to_do_in_one_query(before):
    call_command("migrate", verbosity=0)
    assert _badges(before.cluster)["a1"] == "in_sync"
    keys = dict(Node.objects.values_list("name", "last_sync_key"))
    assert keys["a3"] == "" and all(keys[n] for n in ("s1", "a1", "a2"))
    with CaptureQueriesContext(connection) as queries:
        _upgrade()
    assert len(queries) == 1
    assert dict(Node.objects.values_list("name", "last_sync_key")) == keys


@pytest.mark.parametrize("guess", [STORED, "a-wrong-guess"])
def test_a_guess_saved_after_the_upgrade_is_never_answered_by_a_later_migrate(before, guess):
    _upgrade()
    _save_password(before, before.operator, password=guess)
    assert (cluster_render(before.cluster, reveal=True).encode() == before["a1"].read(MAIN)) == (guess == STORED)
    _upgrade()
    assert _badges(before.cluster) == {"s1": "out_of_date", "a1": "out_of_date", "a2": "out_of_date", "a3": "never"}


@pytest.mark.parametrize("guess", [STORED, "a-wrong-guess"])
def test_a_cluster_changed_since_the_upgrade_adopts_no_node_whether_the_guess_was_right_or_wrong(before, guess):
    # As when its render failed at the first migrate and the nodes kept no key until a later one.
    _save_password(before, before.operator, password=guess)
    _upgrade()
    assert _badges(before.cluster) == {"s1": "out_of_date", "a1": "out_of_date", "a2": "out_of_date", "a3": "never"}
    assert not Node.objects.filter(sync_state=Node.Sync.IN_SYNC, last_sync_key="").exclude(last_sha256="").exists()
    assert {r.status for n, r in before.results(before.push()).items() if n != "a3"} == {"changed"}


def test_a_secret_the_key_ring_cannot_open_skips_its_cluster_with_a_log_line_until_it_can(before, settings, caplog):
    keys = settings.REGUI_ENCRYPTION_KEYS
    settings.REGUI_ENCRYPTION_KEYS = (generate_key(),)  # the key that sealed the registry password is gone
    with caplog.at_level(logging.WARNING, logger="regui.pushes.upgrade"):
        call_command("migrate", verbosity=0)
    lines = [r.getMessage() for r in caplog.records if r.name == "regui.pushes.upgrade"]
    assert len(lines) == 1 and "cluster prod" in lines[0] and "cannot be opened" in lines[0]
    assert STORED not in caplog.text
    assert set(Node.objects.values_list("last_sync_key", flat=True)) == {""}
    settings.REGUI_ENCRYPTION_KEYS = keys
    _upgrade()  # nothing written since the upgrade: the nodes still hold the render's values
    assert _badges(before.cluster) == {"s1": "in_sync", "a1": "in_sync", "a2": "out_of_date", "a3": "never"}


def test_a_cluster_with_no_node_in_sync_gets_its_revision_keyed_so_that_a_pushed_node_shows_holding_it(fleet):
    (node,) = fleet.add("agent")
    _as_before_the_upgrade(fleet.cluster)
    _upgrade()
    fleet.push()
    node.refresh_from_db()
    content = node_content(node)
    assert (content.kind, content.revision.number, content.current) == ("known", 1, True)
    with CaptureQueriesContext(connection) as queries:
        _upgrade()
    assert len(queries) == 1
