"""A node whose new file was written but whose service then failed to restart says both, and why
systemctl failed: "wrote /etc/rancher/k3s/registries.yaml; systemctl restart k3s-agent failed (Job for
k3s-agent.service failed.)". It said only "systemctl restart k3s-agent failed", so a person could not
tell whether the node held the new file, and systemctl's own reason was dropped."""

from __future__ import annotations

import pytest

from tests.pushes.test_failure_messages import push_with_one_bad_node

pytestmark = pytest.mark.django_db(transaction=True)

MAIN = "/etc/rancher/k3s/registries.yaml"


def test_a_failed_restart_names_the_file_written_and_systemctls_reason(fleet):
    r, _ = push_with_one_bad_node(fleet, lambda n: n.set_systemctl(restart_fails=True))
    assert r.status == "failed"
    assert r.message == f"wrote {MAIN}; systemctl restart k3s-agent failed (Job for k3s-agent.service failed.)"


def test_a_service_that_stays_inactive_names_the_file_written(fleet, settings):
    settings.REGUI_RESTART_WAIT = 0
    r, _ = push_with_one_bad_node(fleet, lambda n: n.set_systemctl(is_active="failed"))
    assert (r.status, r.message) == ("failed", f"wrote {MAIN}; k3s-agent is failed, not active, 0 s after the restart")
