"""The History page's Object filter offers every kind of object history records, named in words."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def _offered(html: str) -> dict[str, str]:
    select = re.search(r'<select id="hf-type" name="object_type">(.*?)</select>', html, re.S)
    assert select, "the History page has no Object filter"
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))


def test_every_audited_model_can_be_chosen_in_the_object_filter(viewer_client):
    from regui.audit.models import AUDITED

    offered = _offered(viewer_client.get("/history/").content.decode())
    # The registry fills itself as models are defined: a new audited model without an ObjectType
    # choice (and its migration) fails here.
    assert len(AUDITED) >= 9
    missing = {t: model.__name__ for t, model in AUDITED.items() if t not in offered}
    assert missing == {}
    for t in AUDITED:
        assert offered[t] and offered[t] != "", t


def test_the_shared_ssh_credential_type_is_offered_and_filters_its_entries(make_user):
    from django.test import Client

    from regui.audit.models import AuditEvent
    from regui.inventory.credentials.services import credential_create

    admin = make_user("alice", "admin")
    admin_client = Client()
    admin_client.force_login(admin)
    credential_create(user=admin, name="fleet-key", kind="password", value="Fleet-Pw-8812")
    page = admin_client.get("/history/").content.decode()
    assert _offered(page)["ssh_credential"] == "shared SSH credential"
    listed = admin_client.get("/history/?object_type=ssh_credential").content.decode()
    (entry,) = AuditEvent.objects.filter(object_type="ssh_credential")
    assert f'id="entry-{entry.pk}"' in listed and "Fleet-Pw-8812" not in listed
    others = AuditEvent.objects.exclude(object_type="ssh_credential")
    assert not any(f'id="entry-{e.pk}"' in listed for e in others)
