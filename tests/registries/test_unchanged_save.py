"""Saving the Registries page with nothing changed makes no revision and no history entry: the page says
"Nothing changed: no new revision" and the saver's unsaved edits are discarded as on a save. A save that
writes a secret value (a password typed into a box) is never "unchanged", even when the value equals the
stored one: else "nothing changed" would answer a guessed password (README, Security)."""

from __future__ import annotations

import pytest

from regui.audit.models import AuditEvent, Revision
from regui.registries.models import Cluster, Secret, UnsavedEdits
from tests.pages import TYPED_PASSWORD, post_registries
from tests.pages import mirror_form as form

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
PASSWORD = TYPED_PASSWORD
NOTHING = "Nothing changed: no new revision."



def as_saved(revision=1, **extra):
    """The form as the page shows it after the first save: the typed password became the chosen secret."""
    return form(revision, **{"c1-auth": str(Secret.objects.get().id), "c1-username": "", "c1-password": "",
                             **extra})


def counts(cluster):
    cluster.refresh_from_db()
    return cluster.revision, Revision.objects.filter(cluster=cluster).count(), AuditEvent.objects.count()


def test_saving_the_page_with_nothing_changed_makes_no_revision_and_no_history_entry(operator_client, cluster):
    assert post_registries(operator_client, cluster, form(), **HX)["X-Regui-Saved"] == "1"
    before = counts(cluster)
    answer = post_registries(operator_client, cluster, as_saved(message="again"), **HX)
    assert answer.status_code == 200 and answer["X-Regui-Saved"] == "1"
    body = answer.content.decode()
    assert f'id="save-done" role="status">{NOTHING}</div>' in body and "saved as revision" not in body
    assert counts(cluster) == before == (1, 1, before[2])
    assert Secret.objects.count() == 1


def test_an_unchanged_save_without_htmx_goes_back_to_the_page_with_the_message(operator_client, cluster):
    post_registries(operator_client, cluster, form(), **HX)
    r = post_registries(operator_client, cluster, as_saved())
    assert r.status_code == 302
    page = operator_client.get(r["Location"]).content.decode()
    assert NOTHING in page and "Registries of prod saved." not in page
    assert Cluster.objects.get(pk=cluster.pk).revision == 1


def test_an_unchanged_save_discards_the_savers_unsaved_edits(operator_client, cluster):
    post_registries(operator_client, cluster, form(), **HX)
    operator_client.post(f"/clusters/{cluster.name}/registries/unsaved/keep/",
                         as_saved(**{"m1-hostname": "quay.io"}))
    assert UnsavedEdits.objects.count() == 1
    post_registries(operator_client, cluster, as_saved(), **HX)
    assert not UnsavedEdits.objects.exists()


def test_a_change_of_one_endpoint_makes_a_revision(operator_client, cluster):
    post_registries(operator_client, cluster, form(), **HX)
    answer = post_registries(operator_client, cluster, as_saved(**{"e1-url": "https://other.example.com"}), **HX)
    assert answer["X-Regui-Saved"] == "2" and "saved as revision 2" in answer.content.decode()
    assert counts(cluster)[:2] == (2, 2)


def test_an_operator_retyping_the_password_of_an_admins_secret_gets_a_revision_as_for_any_other(
        admin_client, operator_client, cluster):
    post_registries(admin_client, cluster, form(), **HX)
    assert Secret.objects.get().typed_by == "alice"
    events = AuditEvent.objects.count()
    answer = post_registries(operator_client, cluster, form(1), **HX)  # the same password, typed again
    assert answer["X-Regui-Saved"] == "2" and NOTHING not in answer.content.decode()
    assert counts(cluster)[:2] == (2, 2) and AuditEvent.objects.count() > events
    assert Secret.objects.count() == 2


def test_an_unchanged_save_from_a_stale_page_is_still_refused(operator_client, cluster):
    post_registries(operator_client, cluster, form(), **HX)
    post_registries(operator_client, cluster, as_saved(**{"e1-url": "https://other.example.com"}), **HX)
    answer = post_registries(operator_client, cluster, as_saved(1, **{"e1-url": "https://other.example.com"}), **HX)
    assert "Someone saved these registries (now revision 2)" in answer.content.decode()
    assert NOTHING not in answer.content.decode() and counts(cluster)[:2] == (2, 2)
