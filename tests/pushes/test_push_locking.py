"""Two pushes never touch the same node at once: the second waits for the first. The same push asked
for twice while the first is on its way is one job (pushes/joining.py)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from regui.audit.models import AuditEvent
from regui.pushes.models import PushJob

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_two_simultaneous_pushes_to_one_node_serialize(stack, nodes):
    h = nodes(1)
    h.nodes[0].set_systemctl(restart_seconds=1.5)
    (node,) = stack.add(h)
    first = stack.push(wait=False)
    second = stack.push(wait=False)
    first, second = stack.wait(first), stack.wait(second)
    a, b = first.results.get(), second.results.get()
    assert {a.status, b.status} == {"changed", "unchanged"}, (a.message, b.message)
    spans = sorted([(a.started_at, a.finished_at), (b.started_at, b.finished_at)])
    assert spans[0][1] <= spans[1][0], f"the two pushes overlapped on the node: {spans}"
    assert len(h.nodes[0].restarts()) == 1
    node.refresh_from_db()
    assert node.lock_job is None, "the lock is released"


def test_the_same_push_confirmed_twice_is_one_job_and_one_restart_per_node(stack, nodes, make_user):
    h = nodes(2)
    for hn in h.nodes:
        hn.set_systemctl(restart_seconds=1.5)  # the job is still on its way when the second request comes
    stack.add(h)
    olivia, bob = Client(), Client()
    olivia.force_login(stack.user)
    bob.force_login(make_user("bob", "operator"))
    pages = [_confirmation(c, "scope=all&agents_at_once=1") for c in (olivia, bob)]
    first = olivia.post("/clusters/prod/push/confirm/", pages[0])
    again = olivia.post("/clusters/prod/push/confirm/", pages[0])  # the browser sends the POST again
    second = bob.post("/clusters/prod/push/confirm/", pages[1])
    job = stack.wait(PushJob.objects.get())
    assert {first["Location"], again["Location"], second["Location"]} == {f"/jobs/{job.pk}/"}
    assert sorted(r.status for r in job.results.all()) == ["changed", "changed"]
    assert [len(hn.restarts()) for hn in h.nodes] == [1, 1]
    joined = AuditEvent.objects.filter(object_type="push_job", object_id=str(job.pk), changes__has_key="asked_again_for")
    assert list(joined.values_list("actor_name", flat=True)) == ["bob"]


def _confirmation(client: Client, query: str) -> dict[str, list[str]]:
    """The confirmation page's form, as its Push button sends it."""
    text = client.get(f"/clusters/prod/push/confirm/?{query}").content.decode()
    form = text.split('id="push-confirm-form"')[1].split("</form>")[0]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form):
        fields.setdefault(name, []).append(value)
    return fields
