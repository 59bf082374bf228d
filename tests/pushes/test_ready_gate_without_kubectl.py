"""A Ready gate asked of a server that has no kubectl where its distro bundles one (a shell's "not
found", "permission denied") fails at once, with that error, or asks the next server: no wait can make
the program appear. It asked again every REGUI_READY_POLL for REGUI_READY_WAIT (2 minutes) first."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rke2_fleet(fleet, settings):
    settings.REGUI_READY_WAIT, settings.REGUI_READY_POLL = 20, 0.2
    fleet.cluster.distro = "rke2"
    fleet.cluster.save()
    return fleet


def test_a_server_without_kubectl_fails_the_gate_at_once_with_the_shells_error(rke2_fleet):
    rke2_fleet.add("server")
    rke2_fleet["s1"].path("/var/lib/rancher/rke2/bin/kubectl").unlink()
    started = time.monotonic()
    (r,) = rke2_fleet.results(rke2_fleet.push(ready_gate=True)).values()
    assert time.monotonic() - started < 10, "not after REGUI_READY_WAIT"
    assert r.status == "failed" and "the Ready gate failed: kubectl could not run on s1" in r.message
    assert "not found" in r.message


def test_the_next_server_is_asked_when_the_first_has_no_kubectl(rke2_fleet):
    rke2_fleet.add("server", "server", "agent")
    rke2_fleet["s1"].path("/var/lib/rancher/rke2/bin/kubectl").unlink()
    res = rke2_fleet.results(rke2_fleet.push(ready_gate=True))
    assert res["a1"].status == "changed" and res["a1"].message.endswith("; Ready in Kubernetes")
