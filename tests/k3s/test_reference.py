"""Image references normalised as containerd's CRI does."""

from __future__ import annotations

import pytest

from regui.k3s.reference import ReferenceError, parse_image

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(("ref", "registry", "repo", "reference"), [
    ("nginx", "docker.io", "library/nginx", "latest"),
    ("nginx:1.27", "docker.io", "library/nginx", "1.27"),
    ("rancher/pause:3.6", "docker.io", "rancher/pause", "3.6"),
    ("index.docker.io/nginx", "docker.io", "library/nginx", "latest"),
    ("docker.io/library/nginx", "docker.io", "library/nginx", "latest"),
    ("localhost/app", "localhost", "app", "latest"),
    ("localhost:5000/app:v1", "localhost:5000", "app", "v1"),
    ("quay.io/a/b/c:v1", "quay.io", "a/b/c", "v1"),
    ("MyRegistry/app", "MyRegistry", "app", "latest"),
    (f"nginx@{DIGEST}", "docker.io", "library/nginx", DIGEST),
    (f"nginx:1@{DIGEST}", "docker.io", "library/nginx", DIGEST),
])
def test_it_normalises_image_references(ref, registry, repo, reference):
    r = parse_image(ref)
    assert (r.registry, r.repository, r.reference) == (registry, repo, reference)


@pytest.mark.parametrize("ref", ["", "Nginx", "foo/Bar", "nginx:", "a" * 64, "nginx@sha256:abc", "a//b", None])
def test_it_rejects_invalid_references(ref):
    with pytest.raises(ReferenceError):
        parse_image(ref)
