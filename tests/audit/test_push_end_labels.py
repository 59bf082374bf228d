"""A push that ends badly is recorded as a push entry with the status it ended in; History says
"push interrupted" or "push failed" there, not "started a push" (nobody started one: the entry is
often the system's, when it finds the worker gone)."""

from __future__ import annotations

import pytest

from regui.audit.context import acting
from regui.audit.models import AuditEvent
from regui.audit.services import audit_record

pytestmark = pytest.mark.django_db


def _push_entry(changes: dict, username: str = "") -> AuditEvent:
    with acting(username=username):
        return audit_record(action="push", object_type="push_job", object_id="4", object_repr="Push #4 of lab",
                            changes=changes, message="Interrupted: the worker that ran it has exited.")


@pytest.mark.parametrize("end,label", [("interrupted", "push interrupted"), ("failed", "push failed")])
def test_a_push_that_ended_badly_is_not_shown_as_started(end, label):
    assert _push_entry({"status": ["running", end]}).action_text == label


def test_a_push_someone_started_or_that_was_refused_keeps_its_label():
    assert _push_entry({"nodes": [None, ["a"]], "restart": [None, True]}, "olivia").action_text == "started a push"
    assert _push_entry({"status": [None, "refused"]}, "olivia").action_text == "started a push"


def test_other_actions_show_their_usual_label():
    with acting(username="olivia"):
        entry = audit_record(action="update", object_type="cluster", object_repr="lab", changes={"status": [1, 2]})
    assert entry.action_text == "updated"


def test_the_history_page_and_the_entry_page_say_the_push_was_interrupted(admin_client):
    entry = _push_entry({"status": ["running", "interrupted"]})
    page = admin_client.get("/history/").content.decode()
    assert ">push interrupted</span>" in page and ">started a push</span>" not in page
    assert "system push interrupted" in admin_client.get(f"/history/{entry.pk}/").content.decode()
