"""Where the registries commands read their file: FILE, or standard input for -; a file that cannot be
read (missing, not UTF-8) is the command's error, saying which file, and nothing is imported."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from regui.registries.models import Cluster

pytestmark = pytest.mark.django_db

YAML = 'mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com:5000"]\n'


def unreadable(tmp_path) -> list[str]:
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("# caf\xe9\n".encode("latin-1"))
    return [str(tmp_path / "missing.yaml"), str(latin)]


@pytest.mark.parametrize("command", ["import_registries", "lint_registries", "render_hosts"])
def test_a_file_that_cannot_be_read_is_the_commands_error(tmp_path, command):
    extra = ["--cluster", "edge", "--distro", "k3s"] if command == "import_registries" else []
    for path in unreadable(tmp_path):
        with pytest.raises(CommandError, match=re.escape(f"cannot read {path}: ")):
            call_command(command, path, *extra, stdout=io.StringIO(), stderr=io.StringIO())
    assert not Cluster.objects.exists()


def test_import_registries_reads_standard_input_for_a_dash(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(YAML))
    call_command("import_registries", "-", "--cluster", "edge", "--distro", "k3s", stdout=io.StringIO(),
                 stderr=io.StringIO())
    assert Cluster.objects.get(name="edge").mirrors.count() == 1


def test_render_hosts_reads_standard_input_for_a_dash(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(YAML))
    out = io.StringIO()
    call_command("render_hosts", "-", stdout=out, stderr=io.StringIO())
    assert "mirror.example.com:5000" in out.getvalue()
