"""The Users page says what each role may do, as it is today (issue 11 item 14)."""

from __future__ import annotations

import html

from regui.core.roles import ROLE_SUMMARIES, ROLES


def test_the_users_page_says_operators_push_now(admin_client):
    page = html.unescape(admin_client.get("/users/").content.decode())
    assert "later" not in page
    assert "<strong>Operator</strong>: edits clusters, registries and nodes" in page
    assert "pushes" in ROLE_SUMMARIES["operator"]


def test_it_summarises_every_role(admin_client):
    page = html.unescape(admin_client.get("/users/").content.decode())
    for role in ROLES:
        assert f"<strong>{role.capitalize()}</strong>: {ROLE_SUMMARIES[role]}" in page
