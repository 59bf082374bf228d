"""In-process (fake nodes running the real node program): what a push reports and records for each
node that succeeds: written, unchanged, write-only and its later restart, TLS files, drift checks;
and pushes that are refused before any node is contacted."""

from __future__ import annotations

import hashlib
import io
import stat

import pytest
from django.core.management import call_command

from regui.inventory.models import Node
from regui.pushes.models import PushJob, PushResult
from regui.pushes.services import push_job_run

pytestmark = pytest.mark.django_db(transaction=True)

MAIN = "/etc/rancher/k3s/registries.yaml"


def export(cluster) -> bytes:
    out = io.StringIO()
    call_command("export_registries", "--cluster", cluster.name, stdout=out)
    return out.getvalue().encode()


def test_the_first_push_writes_the_export_restarts_and_records_the_node_in_sync(fleet):
    (node,) = fleet.add("agent")
    job = fleet.push()
    r = job.results.get()
    assert job.status == "done" and job.sha256 == hashlib.sha256(export(fleet.cluster)).hexdigest()
    assert (r.status, r.message) == ("changed", f"wrote {MAIN}; restarted k3s-agent, now active")
    assert r.restarted and (r.sha256_before, r.sha256_after) == ("", job.sha256)
    assert fleet["a1"].read(MAIN) == export(fleet.cluster)
    assert stat.S_IMODE(fleet["a1"].path(MAIN).stat().st_mode) == 0o600
    node.refresh_from_db()
    assert (node.sync_state, node.last_sha256, node.lock_job) == (Node.Sync.IN_SYNC, job.sha256, None)


def test_a_second_push_is_unchanged_and_restarts_nothing(fleet):
    fleet.add("agent")
    fleet.push()
    r = fleet.push().results.get()
    assert (r.status, r.message) == ("unchanged", "already up to date: nothing written, no restart")
    assert not r.restarted and len(fleet["a1"].restarts()) == 1


def test_a_change_keeps_a_backup_of_the_previous_file(fleet):
    from regui.registries.importing import registries_import

    fleet.add("agent")
    fleet.push()
    before = fleet["a1"].read(MAIN)
    registries_import(cluster=fleet.cluster, replace=False,
                      text="mirrors:\n  quay.io:\n    endpoint: [https://q.example.com]\n")
    assert fleet.push().results.get().status == "changed"
    # Each push leaves a copy of what it wrote: the first one's is the backup of what the second replaced.
    backups = sorted(f for f in fleet["a1"].listdir("/etc/rancher/k3s") if ".regui-backup-" in f)
    assert [fleet["a1"].read(f"/etc/rancher/k3s/{b}") for b in backups] == [before, fleet["a1"].read(MAIN)]


def test_write_only_leaves_a_restart_pending_that_the_next_push_applies(fleet):
    (node,) = fleet.add("agent")
    r = fleet.push(restart=False).results.get()
    assert r.status == "changed"
    assert r.message == f"wrote {MAIN}; not restarted (write only): restart k3s-agent to apply"
    assert fleet["a1"].restarts() == []
    node.refresh_from_db()
    assert node.restart_pending
    again = fleet.push().results.get()
    assert (again.status, again.message) == (
        "unchanged", "already up to date; restarted k3s-agent to apply an earlier write-only push")
    assert len(fleet["a1"].restarts()) == 1
    node.refresh_from_db()
    assert not node.restart_pending


def test_tls_files_land_byte_for_byte_beside_a_file_that_names_them(fleet):
    from regui.registries.models import RegistryConfig
    from regui.registries.services import SecretInput, secret_save
    from tests.certs import key_and_cert

    key, cert = key_and_cert("mirror.example.com")
    tls = secret_save(data=SecretInput(name="client", kind="tls", certificate=cert, private_key=key,
                                       cluster=fleet.cluster))
    RegistryConfig.objects.filter(cluster=fleet.cluster).update(tls_secret=tls, ca_bundle=cert)
    fleet.add("agent")
    job = fleet.push()
    assert job.status == "done", job.message
    r = job.results.get()
    assert r.status == "changed", r.message
    base = "/var/lib/rancher/k3s/etc/tls/registries/mirror.example.com:5000"
    assert fleet["a1"].read(f"{base}/tls.key") == key.encode()
    assert fleet["a1"].read(f"{base}/tls.crt") == cert.encode()
    assert f"key_file: {base}/tls.key".encode() in fleet["a1"].read(MAIN)
    assert r.message.startswith("wrote ") and f"{base}/tls.key" in r.message


def test_a_drift_check_reads_sums_writes_nothing_and_names_what_differs(fleet):
    fleet.add("agent", "agent", "agent")
    fleet.push(nodes=fleet.nodes[:2])
    fleet["a2"].write(MAIN, b"# edited by hand\n")
    restarts = len(fleet.fake.restarts())
    res = fleet.results(fleet.push(kind="drift"))
    assert (res["a1"].status, res["a1"].message) == ("in_sync", "matches the current render")
    # Compared with what regui last wrote there, never with a render the node was not given (README: Security).
    assert (res["a2"].status, res["a2"].message) == ("drifted", f"differs from what regui last wrote there: {MAIN}")
    assert (res["a3"].status, res["a3"].message) == ("drifted", f"not written by regui yet: {MAIN} (missing: {MAIN})")
    assert fleet["a2"].read(MAIN) == b"# edited by hand\n" and fleet["a3"].read(MAIN) is None
    assert len(fleet.fake.restarts()) == restarts
    states = dict(Node.objects.values_list("name", "sync_state"))
    assert states == {"a1": "in_sync", "a2": "drifted", "a3": "drifted"}


def test_a_cluster_without_nodes_is_refused_before_anything_is_queued(fleet):
    job = fleet.push()
    assert (job.status, job.message) == ("refused", "No nodes to push to: add nodes to the cluster first.")
    assert not job.results.exists()


def test_an_empty_render_is_refused_and_no_node_is_contacted(fleet):
    fleet.add("agent")
    fleet.cluster.mirrors.all().delete()
    fleet.cluster.configs.all().delete()
    job = fleet.push()
    assert job.status == "refused" and "an empty file is never pushed" in job.message
    assert fleet["a1"].connects == []


def test_a_render_that_went_bad_after_queueing_skips_every_node(fleet):
    (node,) = fleet.add("agent")
    job = PushJob.objects.create(cluster=fleet.cluster, created_by_name="olivia")
    PushResult.objects.create(job=job, node=node, node_name=node.name, role=node.role)
    fleet.cluster.mirrors.all().delete()
    fleet.cluster.configs.all().delete()
    job = push_job_run(job.pk)
    r = job.results.get()
    assert job.status == "refused" and r.status == "skipped" and r.message == job.message
    assert "an empty file is never pushed" in r.message and fleet["a1"].connects == []
