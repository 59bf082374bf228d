"""The Jump hosts page with many jump hosts: a fixed number of queries, not one per row."""

from __future__ import annotations

import pytest

from regui.inventory.credentials.models import SharedCredential
from regui.inventory.jumphosts.models import JumpHost

pytestmark = pytest.mark.django_db


def _add_jump_hosts(start: int, stop: int) -> None:
    for i in range(start, stop):
        credential = SharedCredential(name=f"key-{i}", kind=SharedCredential.Kind.PASSWORD)
        credential.seal_value("pw")
        credential.save()
        JumpHost.objects.create(name=f"bastion-{i}", address=f"10.9.0.{i + 1}", credential=credential)


def test_the_list_costs_the_same_queries_for_3_or_60_jump_hosts(admin_client, django_assert_max_num_queries):
    _add_jump_hosts(0, 3)
    with django_assert_max_num_queries(10) as few:
        assert admin_client.get("/jump-hosts/").status_code == 200
    _add_jump_hosts(3, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_client.get("/jump-hosts/").content.decode()
    assert "bastion-59" in page and "key-59" in page
