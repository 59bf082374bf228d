"""A chunk builds its node program once for the nodes that need the same one (issue 13, the push-vs-floor
target: ~0.15 ms of CPU a node, on the CPUs the nodes' sessions use), and a node that needs another
program (a restart it owes) still gets its own."""

from __future__ import annotations

import pytest

from regui.inventory.models import Node
from regui.pushes import nodepush
from regui.remote.script import RemoteFile

pytestmark = pytest.mark.django_db(transaction=True)


def _counting_builds(monkeypatch) -> list[dict]:
    built: list[dict] = []
    real = nodepush.push_program

    def build(files, **options):
        built.append(options)
        return real(files, **options)

    monkeypatch.setattr(nodepush, "push_program", build)
    return built


def test_alike_nodes_share_one_program_and_a_node_owing_a_restart_gets_its_own(fleet, monkeypatch):
    fleet.add(*["agent"] * 4)
    first = fleet.push(restart=True, agents_at_once="100%")
    assert {r.status for r in first.results.all()} == {"changed"}
    Node.objects.filter(name="a2").update(restart_pending=True)
    restarts_before = len(fleet.fake.restarts())
    built = _counting_builds(monkeypatch)

    job = fleet.push(restart=True, agents_at_once="100%")

    assert job.chunks.count() == 1, "one chunk: its four nodes run together"
    assert sorted(b["force_restart"] for b in built) == [False, True], "two programs for four nodes"
    results = fleet.results(job)
    assert {name: r.restarted for name, r in results.items()} == {"a1": False, "a2": True, "a3": False, "a4": False}
    assert {r.status for r in results.values()} == {"unchanged"}
    assert [r.node for r in fleet.fake.restarts()[restarts_before:]] == ["a2"], "only the node owing one restarted"


def test_the_same_files_and_options_give_the_same_program_and_other_options_another(monkeypatch):
    built = _counting_builds(monkeypatch)
    programs = nodepush.Programs()
    files = [RemoteFile("/etc/rancher/k3s/registries.yaml", b"mirrors: {}\n")]
    options = {"mode": "push", "service": "k3s-agent", "restart": True}

    one = programs.get(files, **options)
    again = programs.get(list(files), **options)
    forced = programs.get([RemoteFile(files[0].path, files[0].content, force=True)], **options)
    server = programs.get(files, **{**options, "service": "k3s"})

    assert again is one and len(built) == 3
    assert forced != one and "changed=1" in forced
    assert "systemctl restart k3s-agent" in one and "systemctl restart k3s " in server
