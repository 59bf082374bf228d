"""Two settings forms of one cluster open at once: the one saved second was saved over the first, so a form
opened before a distro change, saved to fix a description, put the old distro back (and made a revision of
the file saying so) without a word. It is refused with 409 and says what changed, as a registries page
opened before a save is."""

from __future__ import annotations

import html
import re

import pytest

from regui.registries.models import Cluster

pytestmark = pytest.mark.django_db


def opened(client, cluster) -> str:
    page = client.get(f"/clusters/{cluster.name}/edit/").content.decode()
    return re.search(r'name="opened_settings" value="([^"]+)"', page)[1]


def test_a_form_opened_before_another_change_of_the_settings_is_refused_and_changes_nothing(operator_client, cluster):
    stale = opened(operator_client, cluster)
    operator_client.post(f"/clusters/{cluster.name}/edit/", {"name": "prod", "distro": "rke2",
                                                             "opened_settings": opened(operator_client, cluster)})
    r = operator_client.post(f"/clusters/{cluster.name}/edit/", {"name": "prod", "distro": "k3s",
                                                                 "description": "late", "opened_settings": stale})
    assert r.status_code == 409
    assert "changed this cluster's settings after you opened" in html.unescape(r.content.decode())
    cluster.refresh_from_db()
    assert cluster.distro == "rke2" and cluster.description == ""


def test_a_form_opened_after_the_last_change_is_saved(operator_client, cluster):
    r = operator_client.post(f"/clusters/{cluster.name}/edit/", {"name": "prod", "distro": "rke2",
                                                                 "opened_settings": opened(operator_client, cluster)})
    assert r.status_code == 302
    cluster.refresh_from_db()
    assert cluster.distro == "rke2"
    assert Cluster.objects.count() == 1
