"""The import's plan: what a file would change (a redacted diff, the entries and secrets it adds,
changes or removes) before anything is saved, and `import_registries --dry-run`; a file that yields
nothing is refused with the reason, and every message names the cluster's distribution (issue 11 part 5)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from regui.audit.models import Revision
from regui.registries.import_preview import import_preview
from regui.registries.importing import ImportRefused, registries_import, registries_import_plan
from regui.registries.models import Cluster, Mirror, Secret
from regui.registries.selectors import cluster_render

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[1] / "data" / "seeds"
SEED_002 = (SEEDS / "002-01-mirrors-dockerio-and-named-registry.yaml").read_text()
# What a copy from the scraped web page gives: every line at column 0 (still valid YAML).
FLAT_002 = "\n".join(line.strip() for line in SEED_002.splitlines()) + "\n"
PASSWORD = "hunter2-Import-Pw"
WITH_AUTH = ('mirrors:\n  docker.io:\n    endpoint: ["https://reg.example.com:5000"]\n'
             f'configs:\n  "reg.example.com:5000":\n    auth: {{username: robot, password: "{PASSWORD}"}}\n')


@pytest.fixture
def rke2(db):
    return Cluster.objects.create(name="edge", distro="rke2")


def test_a_mis_indented_copy_of_seed_002_is_refused_with_what_it_holds(rke2):
    with pytest.raises(ImportRefused) as exc:
        registries_import(cluster=rke2, text=FLAT_002, replace=False)
    message = f"{exc.value} {' '.join(exc.value.details)}"
    assert "RKE2 reads no registry from this file" in message
    assert "docker.io, endpoint, registry.example.com" in message, "the top-level keys it found"
    assert "mirrors is there, with no registry indented under it" in message
    assert "indentation" in message and "K3s" not in message
    assert not Mirror.objects.exists() and rke2.revisions.count() == 0


def test_a_file_of_comments_only_is_refused_too(cluster):
    with pytest.raises(ImportRefused, match="K3s reads no registry"):
        registries_import_plan(cluster=cluster, text="# nothing here yet\n", replace=True)


def test_messages_name_the_clusters_distribution(rke2):
    with pytest.raises(ImportRefused, match="^RKE2 would refuse this file"):
        registries_import_plan(cluster=rke2, text="mirrors:\n  docker.io:\n    endpoint: not-a-list\n", replace=False)
    plan = registries_import_plan(cluster=rke2, replace=False,
                                  text="mirrors:\n  docker.io:\n    endpoints: [https://x.example.com]\n")
    assert any(w.startswith("RKE2 ignores these keys") for w in plan.warnings)
    with pytest.raises(ImportRefused) as exc:
        registries_import_plan(cluster=rke2, text="mirrors:\n  docker.io:\n    endpoint: ['']\n", replace=False)
    assert "RKE2 skips it" in " ".join(exc.value.details)


def test_a_plan_writes_nothing_and_lists_what_changes(cluster):
    registries_import(cluster=cluster, replace=False, text=(
        "mirrors:\n  docker.io:\n    endpoint: [https://old.example.com]\n  quay.io: {}\n"
        "configs:\n  old.example.com:\n    tls: {insecure_skip_verify: true}\n"))
    plan = registries_import_plan(cluster=cluster, text=WITH_AUTH, replace=True)
    assert [(c.section, c.host, c.action) for c in plan.changes] == [
        ("mirror", "docker.io", "changed"), ("mirror", "quay.io", "removed"),
        ("config", "reg.example.com:5000", "added"), ("config", "old.example.com", "removed")]
    assert [p.name for p in plan.pending.values()] == ["prod-reg-example-com-5000-auth"]
    assert not Secret.objects.exists() and Cluster.objects.get().revision == 1


def test_importing_the_same_file_again_changes_nothing_and_makes_no_revision(cluster):
    first = registries_import(cluster=cluster, text=WITH_AUTH, replace=False)
    assert first.saved and first.secrets == ["prod-reg-example-com-5000-auth"]
    again = registries_import(cluster=cluster, text=WITH_AUTH, replace=False)
    assert not again.saved and "Nothing to import" in again.summary()
    assert Revision.objects.filter(cluster=cluster).count() == 1
    assert Secret.objects.count() == 1, "the same credentials keep their secret"


def test_new_credentials_for_a_host_make_a_new_secret_in_the_preview_and_the_save(cluster):
    registries_import(cluster=cluster, text=WITH_AUTH, replace=False)
    plan = registries_import_plan(cluster=cluster, replace=False, text=WITH_AUTH.replace(PASSWORD, "other"))
    assert [(c.host, c.action) for c in plan.changes] == [("reg.example.com:5000", "changed")]
    assert [p.name for p in plan.pending.values()] == ["prod-reg-example-com-5000-auth-2"]


def test_a_merge_keeps_the_order_of_the_entries_it_replaces(cluster):
    registries_import(cluster=cluster, replace=False, text=(
        "mirrors:\n  docker.io: {endpoint: [https://a.example.com]}\n  quay.io: {endpoint: [https://q.example.com]}\n"))
    registries_import(cluster=cluster, replace=False, text="mirrors:\n  docker.io: {endpoint: [https://b.example.com]}\n")
    assert list(Mirror.objects.values_list("hostname", flat=True)) == ["docker.io", "quay.io"]


def test_import_registries_dry_run_prints_the_changes_and_the_diff_and_saves_nothing(tmp_path):
    path = tmp_path / "registries.yaml"
    path.write_text(WITH_AUTH)
    out = io.StringIO()
    call_command("import_registries", str(path), "--cluster", "new", "--distro", "rke2", "--dry-run",
                 stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "Would import into new (RKE2)" in text and "added    mirror docker.io" in text
    assert "new secret new-reg-example-com-5000-auth" in text
    assert "+      - https://reg.example.com:5000" in text and PASSWORD not in text
    assert not Cluster.objects.exists() and not Secret.objects.exists()


def test_import_registries_refuses_a_file_that_yields_nothing(tmp_path):
    path = tmp_path / "registries.yaml"
    path.write_text(FLAT_002)
    with pytest.raises(CommandError, match="RKE2 reads no registry") as exc:
        call_command("import_registries", str(path), "--cluster", "c1", "--distro", "rke2",
                     stdout=io.StringIO(), stderr=io.StringIO())
    assert "indentation" in str(exc.value)
    assert not Cluster.objects.exists()


def test_the_seed_002_file_as_written_imports_into_rke2(rke2):
    result = registries_import(cluster=rke2, text=SEED_002, replace=False)
    assert result.saved and result.mirrors == 2
    assert yaml.safe_load(cluster_render(rke2))["mirrors"] == yaml.safe_load(SEED_002)["mirrors"]



def test_the_preview_is_exactly_what_the_import_saves(cluster):
    registries_import(cluster=cluster, replace=False, text="mirrors:\n  ghcr.io:\n    endpoint: [https://g.example.com]\n")
    preview = import_preview(registries_import_plan(cluster=cluster, text=WITH_AUTH, replace=False))
    assert "<redacted: password of secret prod-reg-example-com-5000-auth>" in preview.after
    assert [line.kind for line in preview.lines if line.kind in ("add", "del")].count("del") == 0
    registries_import(cluster=cluster, text=WITH_AUTH, replace=False)
    cluster.refresh_from_db()
    assert preview.after == cluster_render(cluster)
    assert preview.before != preview.after and PASSWORD not in preview.after
