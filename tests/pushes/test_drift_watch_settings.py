"""Drift watch settings (operators edit them) and the cluster list's drift badge."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_admin_turns_the_watch_on_and_history_hides_the_webhook_url(fleet, client, make_user):
    from regui.audit.models import AuditEvent
    from regui.pushes.drift_watch import DriftWatch

    client.force_login(make_user("alice", "admin"))
    url = "/clusters/prod/drift-watch/"
    assert client.get(url).status_code == 200
    r = client.post(url, {"interval_minutes": "15", "webhook_url": "https://hooks.example.com/T0/secret-token",
                          "email_recipients": "ops@example.com\noncall@example.com"})
    assert r.status_code == 302
    w = DriftWatch.objects.get(cluster=fleet.cluster)
    assert (w.interval_minutes, w.recipients) == (15, ["ops@example.com", "oncall@example.com"])
    entry = AuditEvent.objects.filter(object_type="cluster", action="update").latest("id")
    assert entry.changes["drift watch interval minutes"] == [0, 15]
    assert "secret-token" not in str(entry.changes)
    assert entry.changes["drift watch webhook URL"] == [None, "https://hooks.example.com"]


def test_bad_recipients_and_a_viewer_are_refused(fleet, client, make_user):
    from regui.pushes.drift_watch import DriftWatch

    client.force_login(make_user("alice", "admin"))
    r = client.post("/clusters/prod/drift-watch/", {"interval_minutes": "5", "email_recipients": "not an address"})
    assert r.status_code == 400 and not DriftWatch.objects.exists()
    client.force_login(make_user("vera", "viewer"))
    assert client.get("/clusters/prod/drift-watch/").status_code == 403


def test_the_cluster_list_shows_drifted_and_unreachable_counts(fleet, client, make_user):
    from regui.inventory.models import Node
    from regui.pushes.drift_watch import DriftWatch

    a1, a2, a3 = fleet.add("agent", "agent", "agent")
    fleet.push()  # a node never pushed reads "never pushed" whatever its state: the counts are the node list's
    Node.objects.filter(pk__in=[a1.pk, a2.pk]).update(sync_state="drifted")
    Node.objects.filter(pk=a3.pk).update(sync_state="unreachable")
    DriftWatch.objects.create(cluster=fleet.cluster, interval_minutes=10)
    client.force_login(make_user("vera", "viewer"))
    page = client.get("/").content.decode()
    assert 'data-drifted="2" data-unreachable="1"' in page
    assert "2 drifted" in page and "1 unreachable" in page and "watched every 10 min" in page
    assert "watch settings" not in page  # a viewer cannot change it


def test_the_page_shows_the_last_check_and_the_nodes_not_in_sync(fleet, client):
    from datetime import timedelta

    from django.utils import timezone

    from regui.pushes.drift_watch import DriftWatch, drift_watch_tick

    fleet.add("agent", "agent", "agent")
    fleet.push()
    client.force_login(fleet.user)
    assert "No check yet." in client.get("/clusters/prod/drift-watch/").content.decode()
    DriftWatch.objects.create(cluster=fleet.cluster, interval_minutes=5)
    now = timezone.now()
    drift_watch_tick(now)
    drift_watch_tick(now + timedelta(minutes=1))  # collects: all in sync
    page = client.get("/clusters/prod/drift-watch/").content.decode()
    job = DriftWatch.objects.get().last_job
    assert f'href="/jobs/{job.pk}/">Drift check #{job.pk}</a>' in page and "(done)" in page
    assert "All 3 nodes were in sync at the last collected check." in page

    fleet["a2"].write("/etc/rancher/k3s/registries.yaml", b"# edited by hand\n")
    fleet["a3"].network = "refused"
    drift_watch_tick(now + timedelta(minutes=5))
    drift_watch_tick(now + timedelta(minutes=6))
    page = client.get("/clusters/prod/drift-watch/").content.decode()
    assert '<span class="badge" data-badge="drifted">1 drifted</span> a2</li>' in page
    assert '<span class="badge" data-badge="unreachable">1 unreachable</span> a3</li>' in page


def test_a_long_list_of_nodes_is_cut_short(fleet, client):
    from regui.pushes.drift_watch import DriftWatch

    DriftWatch.objects.create(cluster=fleet.cluster, node_states={f"n{i:02d}": "drifted" for i in range(25)})
    client.force_login(fleet.user)
    page = client.get("/clusters/prod/drift-watch/").content.decode()
    assert "25 drifted</span> n00, n01," in page and "n19 and 5 more</li>" in page and "n20" not in page


def test_the_cluster_list_says_plainly_that_an_unwatched_cluster_is_not_watched(fleet, client, make_user):
    import re

    from regui.pushes.drift_watch import DriftWatch

    client.force_login(make_user("vera", "viewer"))

    def drift_cell() -> str:
        page = client.get("/").content.decode()
        (cell,) = re.findall(r'<span class="drift-badge".*?drift-watch-state">.*?</span>', page, re.S)
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()

    assert drift_cell() == "not watched"  # was "none not watched": no check, so nothing to say about drift
    DriftWatch.objects.create(cluster=fleet.cluster, interval_minutes=5)
    assert drift_cell() == "no drift · watched every 5 min"


def test_the_cluster_list_does_not_say_no_drift_while_the_watch_could_not_check_a_node(fleet, client, make_user):
    """A node whose check failed (here its host key is no longer approved) keeps its last sync state:
    the list said "no drift" while the watch had just recorded that it could not check the node."""
    import re
    from datetime import timedelta

    from django.utils import timezone

    from regui.inventory.models import Node
    from regui.pushes.drift_watch import DriftWatch, drift_watch_tick

    fleet.add("agent", "agent")
    fleet.push()
    DriftWatch.objects.create(cluster=fleet.cluster, interval_minutes=5)
    Node.objects.filter(name="a1").update(host_key_approved_at=None)
    now = timezone.now()
    drift_watch_tick(now)
    drift_watch_tick(now + timedelta(minutes=5))
    assert Node.objects.get(name="a1").sync_state == "in_sync"  # what the node's own row still says
    client.force_login(make_user("vera", "viewer"))
    page = client.get("/").content.decode()
    (cell,) = re.findall(r'<span class="drift-badge".*?drift-watch-state">.*?</span>', page, re.S)
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() == "1 not checked · watched every 5 min"
