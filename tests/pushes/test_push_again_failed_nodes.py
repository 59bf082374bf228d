"""In-process (fake nodes): the page of a push that ended with failed or unreachable nodes offers to push
again to exactly those, through the same confirmation page as every push (plan, diff, write-only
choice), to the roles that may push; never to a viewer (whose crafted requests are refused), for a drift
check, or while the job runs."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from regui.pushes.models import PushJob

pytestmark = pytest.mark.django_db(transaction=True)


def partly_failed(fleet) -> PushJob:
    """a1 changed, a2 failed (its restart fails), a3 unreachable, a4 skipped."""
    fleet.add("agent", "agent")
    fleet["a2"].set_systemctl(restart_fails=True)
    fleet.add("agent", network="refused")
    fleet.add("agent")
    job = fleet.push(agents_at_once="1", max_failures=2)
    assert {r.node_name: r.status for r in job.results.all()} == {
        "a1": "changed", "a2": "failed", "a3": "unreachable", "a4": "skipped"}
    return job


def confirm_post(client: Client, page: str):
    """Press the confirmation's Push, sending the fields the page holds (write-only left unticked)."""
    form = page.split('id="push-confirm-form"')[1].split("</form>")[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        fields.setdefault(name, []).append(value)
    return client.post("/clusters/prod/push/confirm/", fields)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_operator_pushes_again_to_exactly_the_failed_and_unreachable_nodes_through_the_confirmation(fleet):
    job = partly_failed(fleet)
    client = client_of(fleet.user)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Push again to the 2 failed nodes…" in page
    link = f"/clusters/prod/push/confirm/?scope=retry&amp;job={job.pk}&amp;agents_at_once=1&amp;max_failures=2"
    assert f'href="{link}' in page
    confirm = client.get(link.replace("&amp;", "&")).content.decode()
    assert f"Push to the nodes that failed in job #{job.pk}?" in confirm
    assert 'data-node="a2"' in confirm and 'data-node="a3"' in confirm
    assert 'data-node="a1"' not in confirm and 'data-node="a4"' not in confirm
    assert 'id="confirm-write-only"' in confirm and 'id="push-changes"' in confirm
    fleet["a2"].set_systemctl(restart_fails=False)
    response = confirm_post(client, confirm)
    again = PushJob.objects.exclude(pk=job.pk).get()
    assert response.url == f"/jobs/{again.pk}/"
    assert sorted(r.node_name for r in again.results.all()) == ["a2", "a3"]


def test_a_write_only_push_is_offered_again_write_only(fleet):
    fleet.add("agent", network="refused")
    job = fleet.push(restart=False)
    page = client_of(fleet.user).get(f"/jobs/{job.pk}/").content.decode()
    assert "Push again to the 1 failed node…" in page and "write_only=1" in page


def test_a_viewer_is_not_offered_it_and_is_refused_the_confirmation_by_get_and_post(fleet, make_user):
    job = partly_failed(fleet)
    viewer = client_of(make_user("victor", "viewer"))
    assert 'id="retry-failed"' not in viewer.get(f"/jobs/{job.pk}/").content.decode()
    url = "/clusters/prod/push/confirm/"
    assert viewer.get(url, {"scope": "retry", "job": job.pk}).status_code == 403
    ids = [r.node_id for r in job.results.filter(status__in=["failed", "unreachable"])]
    forged = {"confirm": "1", "scope": "retry", "job": job.pk, "nodes": ids, "revision": fleet.cluster.revision}
    assert viewer.post(url, forged).status_code == 403
    assert viewer.post("/clusters/prod/push/", {"scope": "retry", "job": job.pk}).status_code == 403
    assert PushJob.objects.count() == 1


def test_a_drift_check_with_unreachable_nodes_offers_nothing_to_push_again(fleet):
    fleet.add("agent", network="refused")
    check = fleet.push(kind="drift")
    assert check.results.get().status == "unreachable"
    client = client_of(fleet.user)
    assert 'id="retry-failed"' not in client.get(f"/jobs/{check.pk}/").content.decode()
    response = client.get("/clusters/prod/push/confirm/", {"scope": "retry", "job": check.pk}, follow=True)
    assert f"Nothing to push again: job #{check.pk} is not a push" in response.content.decode()
    assert response.redirect_chain[-1][0] == f"/jobs/{check.pk}/" and PushJob.objects.count() == 1


def test_a_job_still_running_offers_nothing_to_push_again_even_with_a_failed_node(fleet):
    job = partly_failed(fleet)
    PushJob.objects.filter(pk=job.pk).update(status=PushJob.Status.RUNNING, finished_at=None)
    client = client_of(fleet.user)
    assert 'id="retry-failed"' not in client.get(f"/jobs/{job.pk}/").content.decode()
    response = client.get("/clusters/prod/push/confirm/", {"scope": "retry", "job": job.pk}, follow=True)
    assert "Nothing to push again" in response.content.decode() and PushJob.objects.count() == 1


def test_a_job_with_only_skipped_nodes_offers_the_re_run_and_not_a_push_again(fleet):
    fleet.add("agent", "agent")
    fleet["a1"].set_systemctl(restart_fails=True)
    job = fleet.push(agents_at_once="1", max_failures=1)
    job.results.filter(status="failed").update(status="interrupted")
    page = client_of(fleet.user).get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="rerun-unfinished"' in page and 'id="retry-failed"' not in page
