"""A person in Chromium opens an entry's changes on the History page and reads the form's labels
(issue 11 item 13)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_expanded_entry_names_its_fields_as_the_form_does(logged_in, live_server):
    from regui.audit.context import acting
    from regui.audit.labels import field_label
    from regui.audit.services import audit_record

    with acting(username="olivia"):
        entry = audit_record(action="update", object_type="registry_config", object_repr="mirror.example.com",
                             changes={"auth_secret": [None, "robot"], "empty_auth": [False, True]})
    page = logged_in()
    page.goto(f"{live_server.url}/history/")
    page.locator(f"#entry-{entry.pk} button.toggle").click()
    table = page.locator(f"#entry-{entry.pk}-changes table.changes")
    # PostgreSQL's jsonb keeps keys in its own order: compare the rows as a set.
    expect(table.locator("tbody th")).to_have_count(2)
    shown = {(th.inner_text().strip(), th.get_attribute("title")) for th in table.locator("tbody th").all()}
    assert shown == {(field_label("registry_config", "auth_secret"), "auth_secret"),
                     (field_label("registry_config", "empty_auth"), "empty_auth")}
    expect(table).not_to_contain_text("empty_auth")
