"""A job's outcome (issue 11 item 4): succeeded / partly failed / failed with counts, computed from its
results, on the job page and the job list; a refused job stays refused, a running one shows progress."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from regui.pushes.models import PushJob, PushResult
from regui.pushes.outcome import job_outcome, jobs_outcomes, outcome_from_counts

pytestmark = pytest.mark.django_db


def make_job(cluster, job_status, *statuses):
    job = PushJob.objects.create(cluster=cluster, status=job_status, created_by_name="olivia")
    for i, status in enumerate(statuses):
        node, _ = Node.objects.get_or_create(cluster=cluster, name=f"n{i}", defaults={"address": f"10.0.0.{i + 1}"})
        PushResult.objects.create(job=job, node=node, node_name=node.name, role="agent", status=status)
    return job


def test_a_job_where_every_node_failed_is_failed_not_done():
    o = outcome_from_counts("done", {"failed": 2, "unreachable": 1})
    assert (o.key, o.label, o.bad, o.total) == ("failed", "failed", 3, 3)
    assert o.text == "failed on all 3 nodes (2 failed, 1 unreachable)"


def test_a_job_where_some_nodes_failed_is_partly_failed_with_counts():
    o = outcome_from_counts("done", {"changed": 3, "unchanged": 1, "skipped": 1, "failed": 1})
    assert o.key == "partly_failed"
    assert o.text == "partly failed: 1 of 6 nodes failed, 1 unfinished (3 changed, 1 unchanged, 1 failed, 1 skipped)"


def test_a_job_where_no_node_failed_succeeded():
    assert outcome_from_counts("done", {"changed": 1, "unchanged": 1}).text == \
        "succeeded on all 2 nodes (1 changed, 1 unchanged)"
    assert outcome_from_counts("done", {"in_sync": 1}).text == "succeeded on 1 node (1 in sync)"


def test_a_refused_job_stays_refused():
    assert outcome_from_counts("refused", {"skipped": 2}).key == "refused"
    assert outcome_from_counts("refused", {}).text == "refused"


def test_a_running_job_shows_its_progress():
    o = outcome_from_counts("running", {"changed": 1, "running": 2, "pending": 1})
    assert (o.key, o.text) == ("running", "running: 1 of 4 nodes done (1 changed, 2 running, 1 pending)")
    assert outcome_from_counts("queued", {"pending": 2}).text == "queued: 0 of 2 nodes done"


def test_the_outcome_is_the_same_from_the_database_and_from_loaded_results(cluster):
    job = make_job(cluster, "done", "changed", "failed")
    assert job_outcome(job) == job_outcome(job, list(job.results.all()))
    assert job_outcome(job).key == "partly_failed"


def test_outcomes_of_many_jobs_are_read_in_one_query(cluster, django_assert_num_queries):
    jobs = [make_job(cluster, "done", "failed", "failed"), make_job(cluster, "done", "changed"),
            make_job(cluster, "refused")]
    with django_assert_num_queries(1):
        outcomes = jobs_outcomes(jobs)
    assert [outcomes[j.pk].key for j in jobs] == ["failed", "succeeded", "refused"]


def test_the_job_page_says_failed_when_every_node_failed(viewer_client, cluster):
    job = make_job(cluster, "done", "failed", "unreachable")
    page = viewer_client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'data-outcome="failed"' in page and ">on all 2 nodes (1 failed, 1 unreachable)<" in page
    fragment = viewer_client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-outcome="failed"' in fragment


def test_the_job_list_shows_each_jobs_outcome_with_counts(viewer_client, cluster):
    failed = make_job(cluster, "done", "failed", "failed")
    partly = make_job(cluster, "done", "changed", "failed")
    refused = make_job(cluster, "refused")
    page = viewer_client.get(f"/clusters/{cluster.name}/jobs/").content.decode()
    for job, key in ((failed, "failed"), (partly, "partly_failed"), (refused, "refused")):
        row = page.split(f'id="job-{job.pk}"', 1)[1].split("</tr>", 1)[0]
        assert f'data-outcome="{key}"' in row
    assert ">1 of 2 nodes failed (1 changed, 1 failed)<" in page


def test_the_node_list_says_how_the_last_job_went(viewer_client, cluster):
    make_job(cluster, "done", "changed")
    last = make_job(cluster, "done", "failed", "changed")
    page = viewer_client.get(f"/clusters/{cluster.name}/nodes/").content.decode()
    line = page.split('id="last-job"', 1)[1].split("</p>", 1)[0]
    assert f"#{last.pk}" in line and 'data-outcome="partly_failed"' in line
    assert ">1 of 2 nodes failed (1 changed, 1 failed)<" in line


def test_the_node_list_shows_no_last_job_before_any_push(viewer_client, cluster):
    assert 'id="last-job"' not in viewer_client.get(f"/clusters/{cluster.name}/nodes/").content.decode()
