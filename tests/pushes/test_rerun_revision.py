"""In-process (fake nodes): "Re-run unfinished nodes" pushes the revision its job pushed. When the
registries changed since, the one-click re-run is refused (by the service, the button's POST and the
page), saying so, and the page links to the confirmation of the new revision for exactly those nodes."""

from __future__ import annotations

import pytest
from django.test import Client

from regui.pushes import services
from regui.pushes.models import PushJob
from regui.registries.importing import registries_import

pytestmark = pytest.mark.django_db(transaction=True)
NEW = 'mirrors:\n  docker.io:\n    endpoint: ["https://mirror-2.example.com:5000"]\n'


def stopped_job(fleet) -> PushJob:
    """A push stopped after one failed agent: a2 and a3 skipped."""
    fleet.add("agent", "agent", "agent")
    fleet["a1"].set_systemctl(restart_fails=True)
    job = fleet.push(agents_at_once="1", max_failures=1)
    assert sorted(r.node_name for r in job.results.filter(status="skipped")) == ["a2", "a3"]
    return job


def operator(fleet) -> Client:
    client = Client()
    client.force_login(fleet.user)
    return client


def test_a_re_run_pushes_the_source_job_s_revision_when_it_is_still_current(fleet):
    job = stopped_job(fleet)
    response = operator(fleet).post("/clusters/prod/push/", {"scope": "rerun", "job": job.pk})
    rerun = PushJob.objects.exclude(pk=job.pk).get()
    assert response.url == f"/jobs/{rerun.pk}/" and rerun.revision == job.revision
    assert {r.node_name: r.status for r in rerun.results.all()} == {"a2": "changed", "a3": "changed"}


def test_a_re_run_after_the_registries_changed_is_refused_saying_which_revisions(fleet):
    job = stopped_job(fleet)
    registries_import(cluster=fleet.cluster, replace=True, text=NEW)
    fleet.cluster.refresh_from_db()
    was, now = job.revision, fleet.cluster.revision
    assert now != was
    with pytest.raises(services.RevisionChanged) as refused:
        services.push_job_rerun(job)
    assert str(refused.value) == (f"The registries changed since job {job.pk} (revision {was} → {now}): push the new "
                                  "revision through the confirmation instead.")
    assert PushJob.objects.count() == 1


def test_an_operator_s_post_cannot_bypass_the_refusal_and_nothing_is_contacted(fleet, fake_ssh):
    job = stopped_job(fleet)
    registries_import(cluster=fleet.cluster, replace=True, text=NEW)
    for node in fleet.fake.nodes.values():
        node.execs.clear()
    response = operator(fleet).post("/clusters/prod/push/", {"scope": "rerun", "job": job.pk}, follow=True)
    page = response.content.decode()
    assert PushJob.objects.count() == 1 and not fake_ssh.execs()
    assert "Nothing was pushed: The registries changed since job" in page


def test_the_job_page_offers_the_confirmation_of_the_new_revision_instead_of_the_button(fleet):
    job = stopped_job(fleet)
    client = operator(fleet)
    assert 'id="rerun-unfinished"' in client.get(f"/jobs/{job.pk}/").content.decode()
    registries_import(cluster=fleet.cluster, replace=True, text=NEW)
    fleet.cluster.refresh_from_db()
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="rerun-unfinished"' not in page and 'id="rerun-refused"' in page
    assert f"(revision {job.revision} → {fleet.cluster.revision})" in page
    link = f"/clusters/prod/push/confirm/?scope=rerun&amp;job={job.pk}&amp;agents_at_once=1&amp;max_failures=1"
    assert link in page
    confirm = client.get(link.replace("&amp;", "&")).content.decode()
    assert f"the nodes job #{job.pk} left unfinished" in confirm
    assert 'data-node="a2"' in confirm and 'data-node="a3"' in confirm and 'data-node="a1"' not in confirm
    assert '<input type="hidden" name="max_failures" value="1">' in confirm
    assert f'<input type="hidden" name="revision" value="{fleet.cluster.revision}">' in confirm
