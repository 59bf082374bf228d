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

    deadline = time.monotonic() + 15  # the worker stores the task result just after the job ends
    while not TaskResult.objects.filter(status="SUCCESS").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    task = TaskResult.objects.get()
    for text in (task.task_args, task.task_kwargs, task.result):
        assert SECRET not in (text or "") and node_key not in (text or "")
    assert task.task_args in (f"({job.pk}, 0)", f"[{job.pk}, 0]", f"'({job.pk}, 0)'", f'"({job.pk}, 0)"'), \
        "ids only: the job and its chunk"
    for r in job.results.all():
        assert SECRET not in r.output + r.message and node_key not in r.output
    client.force_login(stack.user)
    for url in (f"/jobs/{job.pk}/", f"/clusters/{stack.cluster.name}/nodes/", f"/clusters/{stack.cluster.name}/jobs/"):
        page = client.get(url).content.decode()
        assert SECRET not in page and node_key not in page, url
    log = push_worker.log.read_text()
    assert SECRET not in log and node_key not in log
