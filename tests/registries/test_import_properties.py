"""Any document K3s can read either imports (and exports to what means the same to K3s) or is
refused with a reason: never an unhandled error, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import os

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings

from regui.k3s import generate_hosts
from regui.registries.importing import ImportRefused, registries_import
from regui.registries.models import Cluster
from regui.registries.selectors import cluster_render
from tests.k3s.test_properties import documents

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


@settings(max_examples=int(os.environ.get("REGUI_PROP_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=documents)
def test_any_readable_document_imports_and_round_trips_or_is_refused(doc):
    before = generate_hosts(doc)
    try:
        with transaction.atomic():  # each example leaves the database as it found it
            cluster = Cluster.objects.create(name="prop")
            try:
                registries_import(cluster=cluster, text=doc, replace=True)
            except ImportRefused as exc:
                assert str(exc)
                event("refused")
                raise Rollback from None
            event("imported")
            after = generate_hosts(cluster_render(Cluster.objects.get(pk=cluster.pk), reveal=True))
            assert after.parse_error is None
            assert after.hosts_dirs == before.hosts_dirs
            assert after.cri_auth == before.cri_auth
            raise Rollback
    except Rollback:
        pass
