"""The cluster form, new and edit: the cluster and its default rolling policy saved together, and
the page says which happened."""

from __future__ import annotations

import pytest

from regui.pushes.models import PushPolicy
from regui.registries.models import Cluster

pytestmark = pytest.mark.django_db


def test_a_new_cluster_is_created_with_its_policy_and_said_so(operator_client):
    page = operator_client.get("/clusters/new/").content.decode()
    assert 'name="name"' in page and 'name="policy-agents_at_once"' in page
    r = operator_client.post("/clusters/new/", {"name": "stage", "distro": "rke2", "policy-agents_at_once": "2"},
                             follow=True)
    assert r.redirect_chain[-1][0] == "/clusters/stage/" and "Cluster stage created." in r.content.decode()
    cluster = Cluster.objects.get(name="stage")
    assert cluster.distro == "rke2" and PushPolicy.objects.get(cluster=cluster).agents_at_once == "2"


def test_editing_a_cluster_saves_it_and_says_saved(operator_client, cluster):
    page = operator_client.get(f"/clusters/{cluster.name}/edit/").content.decode()
    assert 'value="prod"' in page
    r = operator_client.post(f"/clusters/{cluster.name}/edit/", {"name": "prod", "distro": "k3s",
                                                                 "description": "the big one"}, follow=True)
    assert "Cluster prod saved." in r.content.decode()
    cluster.refresh_from_db()
    assert cluster.description == "the big one" and Cluster.objects.count() == 1


def test_a_refused_form_creates_nothing(operator_client):
    r = operator_client.post("/clusters/new/", {"name": "no spaces", "distro": "k3s"})
    assert r.status_code == 400 and not Cluster.objects.exists() and not PushPolicy.objects.exists()
    assert "consisting of letters, numbers, underscores or hyphens" in r.content.decode()
