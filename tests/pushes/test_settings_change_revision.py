"""A change of the cluster's settings that changes its file (the distro: the TLS files regui owns are
under /var/lib/rancher/<distro>) is a revision of it, with the change said, as a save of its registries
is. It made none: the node list (against the render now) and a drift check called the nodes pushed
since in sync, while the cluster list (against the newest revision) called them out of date until the
next save of the registries, and their push named a revision whose file they do not hold."""

from __future__ import annotations

import re

import pytest

from regui.audit.models import AuditEvent, Revision
from regui.pushes.selectors import node_rows, saved_badge_filters
from regui.registries.forms import ClusterForm
from regui.registries.selectors import cluster_sync_key, draft_from_cluster
from regui.registries.services import StaleRevision, cluster_save, registries_save
from tests.certs import key_and_cert

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pushed(fleet, client):
    """Two nodes in sync with registries whose config has a CA Cert Bundle (a file regui owns), and the
    operator logged in."""
    fleet.cluster.refresh_from_db()  # the import in Fleet made a revision
    draft = draft_from_cluster(fleet.cluster)
    draft.configs[0].ca_bundle = key_and_cert("mirror.example.com")[1]
    fleet.cluster = registries_save(cluster=fleet.cluster, draft=draft, strict=False)
    fleet.add("server", "agent")
    fleet.push()
    client.force_login(fleet.user)
    return fleet


def edit(client, cluster, **changes) -> None:
    """The cluster settings form, posted with `changes`."""
    fields = {"name": cluster.name, "distro": cluster.distro, "description": cluster.description, **changes}
    fields.update({k: "on" for k, v in list(fields.items()) if v is True})
    fields = {k: v for k, v in fields.items() if v is not False}
    assert client.post(f"/clusters/{cluster.name}/edit/", fields).status_code == 302
    cluster.refresh_from_db()


def drift_cell(client) -> dict[str, str]:
    (cell,) = re.findall(r'<span class="drift-badge"([^>]*)>', client.get("/").content.decode())
    return dict(re.findall(r'data-([\w-]+)="(\d+)"', cell))


def test_after_a_distro_change_and_a_push_every_view_calls_the_nodes_in_sync(pushed, client):
    edit(client, pushed.cluster, distro="rke2")
    pushed.push()
    assert {r.node.name: r.badge for r in node_rows(pushed.cluster)} == {"s1": "in_sync", "a1": "in_sync"}
    assert drift_cell(client)["out-of-date"] == "0"
    # The Registries page's "nodes have it already" counts these.
    assert pushed.cluster.nodes.filter(saved_badge_filters(pushed.cluster)["in_sync"]).count() == 2
    results = pushed.results(pushed.push(kind="drift"))
    assert {n: r.status for n, r in results.items()} == {"s1": "in_sync", "a1": "in_sync"}


def test_the_distro_change_is_a_revision_of_the_file_named_in_history(pushed, client):
    before = pushed.cluster.revision
    edit(client, pushed.cluster, distro="rke2")
    assert pushed.cluster.revision == before + 1
    revision = Revision.objects.get(cluster=pushed.cluster, number=pushed.cluster.revision)
    assert revision.sync_key == cluster_sync_key(pushed.cluster)
    assert "/var/lib/rancher/rke2/etc/tls/registries" in revision.yaml_redacted
    assert revision.message == "Cluster settings: Distro k3s → rke2" and revision.author == pushed.user
    entry = AuditEvent.objects.filter(object_type="cluster", action="update").latest("pk")
    assert entry.changes["distro"] == ["k3s", "rke2"] and entry.revision == revision.number
    page = client.get(f"/clusters/{pushed.cluster.name}/revisions/").content.decode()
    assert "Cluster settings: Distro k3s → rke2" in page
    job = pushed.push()
    assert job.revision == revision.number


@pytest.mark.parametrize("change", [{"embedded_registry": True}, {"disable_default_registry_endpoint": True},
                                    {"ipv6_primary": True}, {"description": "the big one"}])
def test_a_change_that_leaves_the_file_as_it_is_makes_no_revision_and_keeps_the_nodes_in_sync(pushed, client, change):
    before = pushed.cluster.revision
    edit(client, pushed.cluster, **change)
    assert pushed.cluster.revision == before and Revision.objects.filter(cluster=pushed.cluster).count() == before
    assert {r.badge for r in node_rows(pushed.cluster)} == {"in_sync"} and drift_cell(client)["out-of-date"] == "0"


def test_a_distro_change_on_a_cluster_with_no_registries_saved_makes_no_revision(client, fleet):
    fleet.cluster.revisions.all().delete()
    client.force_login(fleet.user)
    edit(client, fleet.cluster, distro="rke2")
    assert not Revision.objects.filter(cluster=fleet.cluster).exists()


def test_the_revision_names_every_setting_changed_with_the_distro(pushed, client):
    edit(client, pushed.cluster, distro="rke2", embedded_registry=True)
    assert pushed.cluster.revisions.order_by("-number").first().message == \
        "Cluster settings: Distro k3s → rke2, --embedded-registry off → on"


def test_a_settings_form_read_before_a_save_of_the_registries_does_not_put_the_revision_back(pushed):
    form = ClusterForm({"name": "prod", "distro": "k3s", "description": "read before"}, instance=pushed.cluster)
    assert form.is_valid()
    saved = registries_save(cluster=pushed.cluster, draft=draft_from_cluster(pushed.cluster), strict=False)
    assert cluster_save(form=form, user=pushed.user).revision == saved.revision


def test_a_registries_page_opened_before_a_distro_change_is_told_the_settings_changed_the_file(pushed, client):
    opened = draft_from_cluster(pushed.cluster)
    edit(client, pushed.cluster, distro="rke2")
    with pytest.raises(StaleRevision) as refused:
        registries_save(cluster=pushed.cluster, draft=opened, strict=False)
    assert str(refused.value).startswith(
        f"The cluster's settings changed the file (now revision {pushed.cluster.revision}: Distro k3s → rke2) "
        f"after you opened the page (revision {opened.revision}).")


def test_a_registries_page_opened_before_someone_s_save_is_told_someone_saved(pushed):
    opened = draft_from_cluster(pushed.cluster)
    saved = registries_save(cluster=pushed.cluster, draft=draft_from_cluster(pushed.cluster), strict=False)
    with pytest.raises(StaleRevision, match=rf"^Someone saved these registries \(now revision {saved.revision}\)"):
        registries_save(cluster=pushed.cluster, draft=opened, strict=False)
