"""The drift watch after a save: nodes going from in sync to out of date (they hold what regui wrote, the
registries were saved since) are no drift: no notice, no history entry. The next notice, for a real
change, counts them apart ("out_of_date" in the JSON's counts, a plain line in the email). A node changed
on the node still notifies as before; so does a node whose last restart failed (K3s has not read it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from regui.audit.models import AuditEvent
from regui.registries.importing import registries_import
from tests.fakes.fleet import YAML
from tests.pushes.test_drift_watch import Receiver, watch_fleet

pytestmark = pytest.mark.django_db(transaction=True)

MAIN = "/etc/rancher/k3s/registries.yaml"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def watched(fleet, settings, receiver):
    """A server and two agents, pushed, watched every 5 minutes with a webhook and an email; the first
    check is collected (all in sync)."""
    w = watch_fleet(fleet, settings, retries=0, email_recipients="ops@example.com")
    w.watch.seal_webhook(receiver.url)
    w.watch.save()
    w.now = timezone.now()
    w.ticks = 0
    tick(w)
    tick(w)
    assert receiver.bodies == []
    return w


def tick(w) -> None:
    from regui.pushes.drift_watch import drift_watch_tick

    drift_watch_tick(w.now + timedelta(minutes=5 * w.ticks))
    w.ticks += 1


def save(w) -> None:
    registries_import(cluster=w.cluster, text=YAML.replace(":5000\"]", ":5001\"]"), replace=True)


def watch_entries():
    return AuditEvent.objects.filter(changes__has_key="drift_watch")


def test_a_save_makes_no_notice_and_no_history_only_out_of_date_states(watched, receiver):
    from django.core import mail

    from regui.pushes.drift_watch import DriftWatch

    save(watched)
    tick(watched)  # collects an in-sync check, starts one after the save
    tick(watched)  # collects it: every node out of date
    assert receiver.bodies == [] and mail.outbox == []
    assert not watch_entries().exists() and not AuditEvent.objects.filter(changes__has_key="drift_state").exists()
    assert DriftWatch.objects.get().node_states == {"s1": "out_of_date", "a1": "out_of_date", "a2": "out_of_date"}

    watched.push()  # back in sync: nothing to tell either
    tick(watched)
    tick(watched)
    assert receiver.bodies == [] and not watch_entries().exists()


def test_a_hand_edit_after_a_save_notifies_drift_and_counts_out_of_date_apart(watched, receiver):
    from django.core import mail

    save(watched)
    watched["a1"].write(MAIN, b"# edited by hand\n")
    tick(watched)
    tick(watched)
    (body,) = receiver.bodies
    assert [(c["node"], c["before"], c["after"]) for c in body["changes"]] == [("a1", "in_sync", "drifted")]
    assert body["counts"] == {"drifted": 1, "out_of_date": 2}
    assert [tuple(e.changes["drift_watch"]) for e in watch_entries()] == [("in_sync", "drifted")]
    cluster = AuditEvent.objects.get(changes__has_key="drift_state")
    assert cluster.changes["drift_state"] == ["in_sync", "drifted"]
    (email,) = mail.outbox
    assert "a1: in sync -> drifted" in email.body and "Nodes: 1 drifted, 2 out of date" in email.body
    assert "2 out of date: not drift" in email.body and "out_of_date" not in email.body


def test_a_node_that_is_out_of_date_and_leaves_the_cluster_is_no_change(watched, receiver):
    from regui.inventory.models import Node

    save(watched)
    tick(watched)
    tick(watched)
    Node.objects.filter(name="a2").delete()
    watched.push(kind="drift")
    tick(watched)
    tick(watched)
    assert receiver.bodies == [] and not watch_entries().exists()


def test_a_failed_restart_is_notified_and_its_repair_too(watched, receiver, client):
    from django.core import mail

    save(watched)
    watched["a1"].set_systemctl(restart_fails=True)
    watched.push()
    tick(watched)
    tick(watched)
    (body,) = receiver.bodies
    assert [(c["node"], c["before"], c["after"]) for c in body["changes"]] == [("a1", "in_sync", "restart_failed")]
    assert body["counts"] == {"in_sync": 2, "restart_failed": 1}
    assert "a1: in sync -> restart pending (the last restart failed)" in mail.outbox[0].body
    watched["a2"].write(MAIN, b"# edited by hand\n")
    tick(watched)
    tick(watched)
    cluster = AuditEvent.objects.filter(changes__has_key="drift_state").latest("pk")
    assert cluster.changes["drift_state"] == ["restart_failed", "drifted, restart_failed"]
    client.force_login(watched.user)
    page = client.get(f"/history/{cluster.pk}/").content.decode()
    assert "drifted, restart pending (the last restart failed)" in page and "restart_failed" not in page
    watched.push()

    watched["a1"].set_systemctl()
    (repaired,) = [r for r in watched.push().results.all() if r.node_name == "a1"]
    assert repaired.message == "already up to date; restarted k3s-agent, whose last restart failed"
    tick(watched)
    tick(watched)
    told = [(c["node"], c["before"], c["after"]) for b in receiver.bodies for c in b["changes"]]
    assert ("a1", "restart_failed", "in_sync") in told and ("a2", "drifted", "in_sync") in told
    assert [tuple(e.changes["drift_watch"]) for e in watch_entries().filter(object_repr="a1").order_by("pk")] == [
        ("in_sync", "restart_failed"), ("restart_failed", "in_sync")]


def test_the_watch_page_lists_out_of_date_nodes_in_words(watched, client):
    save(watched)
    tick(watched)
    tick(watched)
    client.force_login(watched.user)
    page = client.get("/clusters/prod/drift-watch/").content.decode()
    # Muted, as on the cluster list: not drift, nothing to alarm anyone about.
    assert '<span class="muted" data-badge="out_of_date">3 out of date</span> a1, a2, s1</li>' in page
