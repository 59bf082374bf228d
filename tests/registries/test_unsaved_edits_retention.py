"""Unsaved edits are kept for REGUI_UNSAVED_DAYS after their last change: older ones are no longer
offered, and go the next time anyone's edits are kept; one set per user and cluster."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from regui.registries.models import Cluster, UnsavedEdits
from regui.registries.unsaved import unsaved_offer, unsaved_prune

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def form(url: str = "https://mirror.example.com") -> dict:
    return {"revision": "0", "mirror": ["m1"], "m1-hostname": "docker.io", "m1-endpoint": ["e1"], "e1-url": url}


def keep(client, cluster, url: str = "https://mirror.example.com"):
    r = client.post(f"/clusters/{cluster.name}/registries/unsaved/keep/", form(url))
    assert r["X-Regui-Unsaved"] == "kept"
    return r


def age(days: float) -> None:
    """Every kept set as if last changed `days` ago (auto_now sets it on save, not on update)."""
    UnsavedEdits.objects.update(updated_at=timezone.now() - timedelta(days=days))


def offer(client, cluster) -> str:
    return client.get(f"/clusters/{cluster.name}/registries/unsaved/", **HX).content.decode()


def test_edits_older_than_the_retention_are_no_longer_offered(operator_client, cluster, settings):
    settings.REGUI_UNSAVED_DAYS = 30
    keep(operator_client, cluster)
    age(29)
    assert "You have unsaved edits" in offer(operator_client, cluster)
    age(31)
    assert "unsaved edits" not in offer(operator_client, cluster)
    restored = operator_client.post(f"/clusters/{cluster.name}/registries/unsaved/restore/", **HX).content.decode()
    assert "Those edits are gone" in restored


def test_keeping_anyones_edits_removes_every_expired_set(operator_client, admin_client, cluster, settings):
    settings.REGUI_UNSAVED_DAYS = 30
    stage = Cluster.objects.create(name="stage")
    keep(operator_client, cluster)
    keep(admin_client, stage)
    age(40)
    keep(admin_client, cluster)
    assert [(e.user.username, e.cluster.name) for e in UnsavedEdits.objects.all()] == [("alice", "prod")]


def test_a_change_starts_the_retention_again(operator_client, cluster, settings):
    settings.REGUI_UNSAVED_DAYS = 30
    keep(operator_client, cluster)
    age(31)
    keep(operator_client, cluster, "https://other.example.com")
    edits = UnsavedEdits.objects.get()
    assert edits.data["mirrors"][0]["endpoints"][0]["url"] == "https://other.example.com"
    assert unsaved_offer(user=edits.user, cluster=cluster) is not None


def test_each_user_keeps_one_set_per_cluster(operator_client, cluster):
    for n in range(3):
        keep(operator_client, cluster, f"https://m{n}.example.com")
    assert UnsavedEdits.objects.count() == 1


def test_zero_days_keeps_them_all(operator_client, cluster, settings):
    settings.REGUI_UNSAVED_DAYS = 0
    keep(operator_client, cluster)
    age(3650)
    assert unsaved_prune() == 0 and UnsavedEdits.objects.count() == 1
    assert "You have unsaved edits" in offer(operator_client, cluster)
