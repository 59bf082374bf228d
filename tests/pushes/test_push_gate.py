"""Every way to start a push goes through one gate: the node list's push form and a node's Push (old
addresses included) lead to the confirmation page, which shows the plan and refuses what may not be
pushed; "Re-run unfinished nodes" refuses the same. An operator replays the old POSTs as an attacker
would: no push to a node without an approved host key, no policy outside its bounds. Fake nodes,
Celery eager (the `fleet` fixture)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from regui.inventory.models import Node
from regui.pushes.models import PushJob, PushPolicy
from regui.pushes.plan import Policy
from regui.pushes.services import push_job_create, push_job_rerun

pytestmark = pytest.mark.django_db(transaction=True)
MAIN = "/etc/rancher/k3s/registries.yaml"


@pytest.fixture
def olivia(fleet):
    client = Client()
    client.force_login(fleet.user)
    return client


def confirm_query(response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.status_code
    url = urlsplit(response["Location"])
    assert url.path == "/clusters/prod/push/confirm/", url.path
    return parse_qs(url.query)


@pytest.mark.parametrize("scope", ["all", "failed", "anything-else"])
def test_the_old_push_form_address_shows_the_plan_and_queues_nothing(fleet, olivia, scope):
    fleet.add("server", "agent")
    response = olivia.post("/clusters/prod/push/", {"scope": scope, "agents_at_once": "1", "write_only": "1",
                                                   "confirm": "1", "nodes": [n.pk for n in fleet.nodes]})
    assert confirm_query(response) == {"scope": [scope], "agents_at_once": ["1"], "write_only": ["1"]}
    assert not PushJob.objects.exists() and fleet["s1"].connects == []


def test_a_node_without_an_approved_key_gets_nothing_through_the_old_addresses(fleet, olivia):
    (a1,) = fleet.add("agent", approve=False)
    for url in ("/clusters/prod/push/", f"/clusters/prod/nodes/{a1.pk}/push/"):
        olivia.post(url, {"scope": "all", "confirm": "1", "nodes": [a1.pk]})
    page = olivia.get(f"/clusters/prod/push/confirm/?node={a1.pk}")
    assert page.status_code == 409 and "No target node has an approved host key" in page.content.decode()
    fleet.cluster.refresh_from_db()
    refused = olivia.post("/clusters/prod/push/confirm/", {"confirm": "1", "revision": fleet.cluster.revision,
                                                           "node": a1.pk, "nodes": [a1.pk]})
    assert refused.status_code == 409 and "Nothing was queued: No target node has an approved host key" in \
        refused.content.decode()
    assert not PushJob.objects.exists()
    assert fleet["a1"].connects == [] and fleet["a1"].read(MAIN) is None


def test_a_nodes_push_button_leads_to_its_confirmation_and_the_push_from_there_works(fleet, olivia):
    (a1, a2) = fleet.add("agent", "agent")
    response = olivia.post(f"/clusters/prod/nodes/{a1.pk}/push/", {"write_only": "1"})
    assert confirm_query(response) == {"node": [str(a1.pk)], "write_only": ["1"]}
    htmx = olivia.post(f"/clusters/prod/nodes/{a1.pk}/push/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == f"/clusters/prod/push/confirm/?node={a1.pk}"
    page = olivia.get(f"/clusters/prod/push/confirm/?node={a1.pk}").content.decode()
    assert "Push to a1?" in page and "Push to 1 node" in page
    fleet.cluster.refresh_from_db()
    queued = olivia.post("/clusters/prod/push/confirm/", {"confirm": "1", "revision": fleet.cluster.revision,
                                                          "node": a1.pk, "nodes": [a1.pk]})
    job = PushJob.objects.get()
    assert queued.url == f"/jobs/{job.pk}/" and [r.node_name for r in job.results.all()] == ["a1"]
    assert fleet["a1"].read(MAIN) is not None and fleet["a2"].connects == []


def test_another_clusters_node_cannot_be_pushed_through_this_clusters_address(fleet, olivia):
    from regui.registries.models import Cluster

    (a1,) = fleet.add("agent")
    Cluster.objects.create(name="other")
    assert olivia.post(f"/clusters/other/nodes/{a1.pk}/push/").status_code == 404


BAD_CHOICES = [
    ({"agents_at_once": "0"}, "Agents at once is between 1 and 10000"),
    ({"agents_at_once": "-1"}, "is neither a number of agents"),
    ({"agents_at_once": "101%"}, "between 1% and 100%"),
    ({"agents_at_once": "0%"}, "between 1% and 100%"),
    ({"agents_at_once": "99999"}, "Agents at once is between 1 and 10000"),
    ({"agents_at_once": "1e9"}, "is neither a number of agents"),
    ({"agents_at_once": "123456789"}, "at most 8 characters"),
    ({"max_failures": "-1"}, "greater than or equal to 0"),
    ({"max_failures": "100001"}, "less than or equal to 100000"),
    ({"pause_seconds": "-5"}, "greater than or equal to 0"),
    ({"pause_seconds": "86401"}, "less than or equal to 86400"),
    ({"pause_seconds": "9" * 40}, "less than or equal to 86400"),
    ({"pause_seconds": "soon"}, "Enter a whole number"),
    ({"ready_gate": "2"}, "Select a valid choice"),
]


@pytest.mark.parametrize(("choice", "error"), BAD_CHOICES)
def test_a_choice_out_of_bounds_is_a_form_error_whichever_address_it_is_posted_to(fleet, olivia, choice, error):
    fleet.add("server", "agent")
    fleet.cluster.refresh_from_db()
    confirmed = {"confirm": "1", "revision": fleet.cluster.revision, "scope": "all",
                 "nodes": [n.pk for n in fleet.nodes]}
    for url, data in (("/clusters/prod/push/", {"scope": "all"}), ("/clusters/prod/push/confirm/", confirmed),
                      ("/clusters/prod/push/confirm/", {"scope": "all"})):
        response = olivia.post(url, {**data, **choice}, follow=True)
        text = response.content.decode()
        assert response.status_code == 200 and "Nothing was pushed: " in text and error in text, (url, text[-3000:])
    assert not PushJob.objects.exists() and fleet["a1"].connects == []


@pytest.mark.parametrize("policy", [Policy(agents_at_once="0"), Policy(max_failures=-1), Policy(pause_seconds=86401),
                                    Policy(max_failures=10**9)])
def test_the_service_refuses_a_policy_out_of_bounds_whoever_calls_it(fleet, policy):
    fleet.add("agent")
    job = push_job_create(cluster=fleet.cluster, user=fleet.user, policy=policy)
    assert job.status == "refused" and "between" in job.message and not job.results.exists()
    assert fleet["a1"].connects == []


def test_re_run_refuses_when_none_of_its_nodes_still_has_an_approved_key(fleet, olivia):
    fleet.add("agent", "agent")
    fleet["a1"].set_systemctl(restart_fails=True)
    job = fleet.push(agents_at_once="1", max_failures=1)
    assert {r.status for r in job.results.all()} == {"failed", "skipped"}
    Node.objects.update(host_key_approved_at=None)
    with pytest.raises(Exception, match="No target node has an approved host key"):
        push_job_rerun(job)
    response = olivia.post("/clusters/prod/push/", {"scope": "rerun", "job": job.pk}, follow=True)
    assert "No target node has an approved host key" in response.content.decode()
    assert PushJob.objects.count() == 1


def test_the_drift_check_button_still_starts_at_once_and_validates_its_choices(fleet, olivia):
    fleet.add("agent")
    response = olivia.post("/clusters/prod/push/", {"scope": "drift"})
    job = PushJob.objects.get()
    assert job.kind == "drift" and response.url == f"/jobs/{job.pk}/"
    bad = olivia.post("/clusters/prod/push/", {"scope": "drift", "agents_at_once": "0%"}, follow=True)
    assert "Nothing was checked: " in bad.content.decode() and PushJob.objects.count() == 1


def test_a_viewer_can_use_none_of_the_push_addresses(fleet, make_user):
    (a1,) = fleet.add("agent")
    viewer = Client()
    viewer.force_login(make_user("victor", "viewer"))
    for url in ("/clusters/prod/push/", f"/clusters/prod/nodes/{a1.pk}/push/", "/clusters/prod/push/confirm/"):
        assert viewer.post(url, {"scope": "all", "confirm": "1", "nodes": [a1.pk]}).status_code == 403, url
    assert not PushJob.objects.exists()


@pytest.mark.parametrize(("field", "value", "error"), [
    ("agents_at_once", "0%", "between 1% and 100%"), ("agents_at_once", "0", "between 1 and 10000"),
    ("max_failures", "-1", "greater than or equal to 0"), ("max_failures", "100001", "At most 100000"),
    ("pause_seconds", "-1", "greater than or equal to 0"), ("pause_seconds", "86401", "At most 86400 s"),
    ("pause_seconds", "9" * 30, "At most 86400 s")])
def test_the_clusters_defaults_out_of_bounds_are_form_errors_too(fleet, olivia, field, value, error):
    response = olivia.post("/clusters/prod/edit/", {"name": "prod", "distro": "k3s", f"policy-{field}": value})
    text = response.content.decode()
    assert response.status_code in (200, 400) and error in text, text[-2000:]
    assert not PushPolicy.objects.exists()
