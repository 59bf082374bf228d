"""A push whose worker died after writing a node's file and before recording it: the interrupted job's
re-read records the file as regui's (its sha256 and sync key), so Import from node shows it as the file
regui wrote there (node_file.py), not as a stranger's file to be checked for guessed secrets."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from regui.inventory.models import Node
from regui.inventory.node_file import node_file_is_current
from regui.pushes.recovery import jobs_recover
from regui.registries.selectors import cluster_sync_key

from .test_import_of_a_file_regui_wrote import _import
from .test_interrupted_jobs import _killed_mid_write, three  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_file_written_by_a_push_whose_worker_died_is_regui_s_after_the_re_read(three, monkeypatch):  # noqa: F811
    fleet = three
    job = _killed_mid_write(fleet, monkeypatch)
    written = Node.objects.get(name="a1")
    assert written.last_sync_key != cluster_sync_key(fleet.cluster), "the kill left the write unrecorded"
    assert jobs_recover() == [job.pk]
    node = Node.objects.select_related("cluster").get(name="a1")
    text = (fleet["a1"].root / "etc/rancher/k3s/registries.yaml").read_text()
    assert node.last_sha256 == hashlib.sha256(text.encode()).hexdigest() and node_file_is_current(node, text)
    client = Client()
    client.force_login(fleet.user)
    assert _import(client, fleet, node) == [
        "Nothing to import: a1 holds the cluster's current registries, as regui wrote them there. Nothing was saved."]
