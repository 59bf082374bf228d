"""The last look at a render before a push takes it to the nodes (pushes/files.py): saves refuse what it
refuses, so it only ever meets such a render when something went around them (rows changed by hand, a
newer rule). It must still say why, and nothing is queued."""

from __future__ import annotations

import pytest

from regui.pushes import files
from regui.registries.importing import registries_import
from regui.registries.models import Cluster, Mirror

pytestmark = pytest.mark.django_db

GOOD = 'mirrors:\n  docker.io:\n    endpoint: ["https://mirror.example.com:5000"]\n'


@pytest.fixture
def cluster():
    made = Cluster.objects.create(name="prod", distro="k3s")
    registries_import(cluster=made, text=GOOD, replace=True)
    return made


def test_it_passes_a_clean_render_through_unchanged(cluster):
    assert files._check(cluster, GOOD) == GOOD


def test_it_refuses_a_file_k3s_would_not_parse_in_k3s_words(cluster):
    with pytest.raises(files.RenderRefused, match=r"^k3s would refuse this file: yaml: line \d+: "):
        files._check(cluster, 'mirrors:\n  docker.io:\n    endpoint: ["https://m.example"\n')


def test_it_refuses_a_file_over_the_limits_as_one_k3s_is_not_shown(cluster):
    with pytest.raises(files.RenderRefused, match="^k3s would refuse this file: "):
        files._check(cluster, "mirrors:\n" + "".join(f"  m{i}.example: {{}}\n" for i in range(20000)))


def test_it_refuses_lint_errors_and_names_them(cluster):
    with pytest.raises(files.RenderRefused, match="^Lint errors must be fixed before a push: .*ftp://"):
        files._check(cluster, 'mirrors:\n  docker.io:\n    endpoint: ["ftp://mirror.example.com"]\n')


def test_a_stored_endpoint_no_save_would_take_is_refused_at_the_push(cluster):
    Mirror.objects.filter(cluster=cluster).update(endpoints=["ftp://mirror.example.com"])
    with pytest.raises(files.RenderRefused, match="^Lint errors must be fixed before a push"):
        files.check_render(cluster)
