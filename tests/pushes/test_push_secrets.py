"""No secret value in task arguments, task results, push results, job pages or the worker's log."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET = "push-secret-7Q"


def test_no_secret_leaves_the_node_file(stack, nodes, push_worker, client):
    from django_celery_results.models import TaskResult

    h = nodes(2)
    stack.add(h)
    job = stack.push()
    assert SECRET.encode() in h.nodes[0].read("/etc/rancher/k3s/registries.yaml"), "the test uses a real secret"
    node_key = h.client_private_key_pem.splitlines()[1]

    import time

    # Ids only: the job and its chunk. The session's worker may store an earlier test's result after that
    # test's flush (it stores a task's result just after its job ends): this job's task is found by them.
    ids_only = (f"({job.pk}, 0)", f"[{job.pk}, 0]", f"'({job.pk}, 0)'", f'"({job.pk}, 0)"')
    deadline = time.monotonic() + 15
    while (not TaskResult.objects.filter(status="SUCCESS", task_args__in=ids_only).exists()
           and time.monotonic() < deadline):
        time.sleep(0.1)
    assert TaskResult.objects.filter(status="SUCCESS", task_args__in=ids_only).count() == 1
    for task in TaskResult.objects.all():
        for text in (task.task_args, task.task_kwargs, task.result):
            assert SECRET not in (text or "") and node_key not in (text or "")
    for r in job.results.all():
        assert SECRET not in r.output + r.message and node_key not in r.output
    client.force_login(stack.user)
    for url in (f"/jobs/{job.pk}/", f"/clusters/{stack.cluster.name}/nodes/", f"/clusters/{stack.cluster.name}/jobs/"):
        page = client.get(url).content.decode()
        assert SECRET not in page and node_key not in page, url
    log = push_worker.log.read_text()
    assert SECRET not in log and node_key not in log
