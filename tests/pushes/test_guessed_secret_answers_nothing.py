"""A guessed password saved in place of a secret someone else typed answers nothing: the fingerprint
changes, the nodes are no longer in sync, a drift check does not say in sync, and a push writes the file
(and restarts) whether or not the guess was right. Sync states follow the secret values' identities (a
value written, even an equal one, is a new one), not the file's bytes; saves that write no value keep them."""

from __future__ import annotations

import pytest

from regui.audit.context import acting
from regui.audit.models import Revision
from regui.core.fingerprints import file_fingerprint
from regui.inventory.models import Node
from regui.pushes.selectors import node_rows
from regui.registries.models import Secret
from regui.registries.selectors import cluster_render, draft_from_cluster
from regui.registries.services import SecretInput, registries_save, secret_save
from tests.fakes.fleet import YAML

pytestmark = pytest.mark.django_db(transaction=True)

MAIN = "/etc/rancher/k3s/registries.yaml"
STORED = "push-secret-7Q"  # the fleet's secret, as its import made it (nobody below admin typed it)
assert STORED in YAML


def _fingerprint(cluster) -> str:
    cluster.refresh_from_db()
    return file_fingerprint(Revision.objects.get(cluster=cluster, number=cluster.revision).sync_key)


def _badges(cluster) -> dict[str, str]:
    return {r.node.name: r.badge for r in node_rows(cluster)}


def _save_password(fleet, user, password: str = "", description: str = "") -> None:
    secret = Secret.objects.get(cluster=fleet.cluster)
    with acting(user):
        secret_save(data=SecretInput(name=secret.name, kind=secret.kind, username=secret.username,
                                     password=password, description=description, cluster=fleet.cluster),
                    existing=secret, user=user)


@pytest.fixture
def pushed(fleet, make_user):
    fleet.add("server", "agent")
    fleet.push()
    fleet.operator = make_user("mallory", "operator")
    return fleet


@pytest.mark.parametrize("guess", [STORED, "a-wrong-guess"])
def test_an_operators_guess_saved_in_place_of_a_secret_shows_the_same_whether_right_or_wrong(pushed, guess):
    before_bytes, before = cluster_render(pushed.cluster, reveal=True), _fingerprint(pushed.cluster)
    assert set(_badges(pushed.cluster).values()) == {"in_sync"}
    restarts = len(pushed.fake.restarts())
    _save_password(pushed, pushed.operator, password=guess)
    assert (cluster_render(pushed.cluster, reveal=True) == before_bytes) == (guess == STORED)
    assert _fingerprint(pushed.cluster) != before
    assert set(_badges(pushed.cluster).values()) == {"out_of_date"}
    check = pushed.results(pushed.push(kind="drift"))
    assert {(r.status, r.message) for r in check.values()} == {
        ("out_of_date", "holds what regui last wrote there, not the current render: a push sends it")}
    assert len({file_fingerprint(r.key_after) for r in check.values()} | {_fingerprint(pushed.cluster)}) == 2
    results = pushed.results(pushed.push())
    assert {(r.status, r.restarted) for r in results.values()} == {("changed", True)}
    assert all(r.message.startswith(f"wrote {MAIN}") for r in results.values())
    assert all(r.key_before != r.key_after for r in results.values()), "no fingerprint pair says 'the same'"
    assert len(pushed.fake.restarts()) == restarts + 2
    assert set(_badges(pushed.cluster).values()) == {"in_sync"}
    assert pushed["a1"].read(MAIN) == cluster_render(pushed.cluster, reveal=True).encode()


def test_an_admins_guess_gets_the_same_answers_as_anyone_elses(pushed, make_user):
    admin = make_user("ada", "admin")
    before = _fingerprint(pushed.cluster)
    _save_password(pushed, admin, password=STORED)
    assert _fingerprint(pushed.cluster) != before and set(_badges(pushed.cluster).values()) == {"out_of_date"}
    assert {r.status for r in pushed.results(pushed.push()).values()} == {"changed"}


def test_a_save_that_writes_no_secret_value_keeps_the_nodes_in_sync(pushed):
    before = Revision.objects.get(cluster=pushed.cluster, number=pushed.cluster.revision).sync_key
    value_id = Secret.objects.get(cluster=pushed.cluster).value_id
    _save_password(pushed, pushed.operator, description="the robot's pull account")  # no value typed
    with acting(pushed.operator):
        registries_save(cluster=pushed.cluster, draft=draft_from_cluster(pushed.cluster), user=pushed.operator)
    assert Secret.objects.get(cluster=pushed.cluster).value_id == value_id
    pushed.cluster.refresh_from_db()
    assert Revision.objects.get(cluster=pushed.cluster, number=pushed.cluster.revision).sync_key == before
    assert set(_badges(pushed.cluster).values()) == {"in_sync"}
    assert {r.status for r in pushed.results(pushed.push(kind="drift")).values()} == {"in_sync"}


def test_a_push_after_one_that_wrote_the_same_secret_values_says_unchanged_and_restarts_nothing(pushed):
    restarts = len(pushed.fake.restarts())
    results = pushed.results(pushed.push())
    assert {(r.status, r.restarted) for r in results.values()} == {("unchanged", False)}
    assert all(r.key_before == r.key_after for r in results.values())
    assert len(pushed.fake.restarts()) == restarts


def test_a_node_regui_never_pushed_gets_the_file_written_even_when_it_holds_the_same_bytes(fleet):
    (node,) = fleet.add("agent")
    fleet["a1"].write(MAIN, cluster_render(fleet.cluster, reveal=True).encode())
    check = fleet.results(fleet.push(kind="drift"))["a1"]
    assert (check.status, check.message) == ("drifted", f"not written by regui yet: {MAIN}")
    result = fleet.results(fleet.push())["a1"]
    assert (result.status, result.restarted) == ("changed", True)
    node.refresh_from_db()
    assert node.last_sync_key and node_rows(fleet.cluster)[0].badge == "in_sync"
    assert Node.objects.get(pk=node.pk).sync_state == Node.Sync.IN_SYNC


@pytest.mark.parametrize("guess", [STORED, "a-wrong-guess"])
def test_a_guess_saved_while_a_drift_check_runs_skips_its_other_chunks_whether_right_or_wrong(
        pushed, guess, monkeypatch, settings):
    from regui.celery import app
    from regui.pushes import rolling, services

    settings.REGUI_PUSH_CHUNK = 1
    sent: list[int] = []
    monkeypatch.setattr(services, "celery_send", lambda job_id, chunks: sent.extend(chunks))
    app.conf.task_always_eager = False
    try:
        job = services.push_job_create(cluster=pushed.cluster, user=pushed.user, kind="drift",
                                       policy=services.effective_policy(pushed.cluster, {"agents_at_once": "2"}))
        rolling.push_job_run(job.pk, sent[0], send=lambda job_id, chunks: sent.extend(chunks))
        _save_password(pushed, pushed.operator, password=guess)
        for chunk in sorted(set(sent) - {sent[0]}):
            job = rolling.push_job_run(job.pk, chunk, send=lambda job_id, chunks: sent.extend(chunks))
    finally:
        app.conf.task_always_eager = True
    statuses = sorted(r.status for r in pushed.results(job).values())
    assert statuses == ["in_sync", "skipped"]
