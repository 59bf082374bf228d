"""containerd rewrites the repository path only: a pattern written against the whole image reference
(`^docker.io/...`) never changes a pull, and K3s and containerd say nothing."""

from __future__ import annotations

from regui.k3s.linter import lint


def hits(key: str, pattern: str) -> list:
    text = f'mirrors:\n  "{key}":\n    endpoint: ["https://mirror.example.com"]\n    rewrite:\n      "{pattern}": "x/$1"\n'
    return [f for f in lint(text) if f.code == "rewrite-names-registry"]


def test_it_warns_when_an_anchored_pattern_starts_with_the_mirrors_registry():
    [found] = hits("docker.io", "^docker.io/(.*)")
    assert found.severity == "warning" and found.path == ("mirrors", "docker.io", "rewrite", "^docker.io/(.*)")
    assert "library/nginx, not docker.io/library/nginx" in found.message
    assert found.hint == "Drop docker.io/ from the pattern: ^(.*)"


def test_docker_hubs_other_names_and_escaped_dots_count_too():
    assert hits("docker.io", "^registry-1[.]docker[.]io/library/(.*)")
    assert hits("docker.io", "^index.docker.io/(.*)")
    assert hits("registry.example.com:5000", "^registry[.]example[.]com:5000/team/(.*)")


def test_patterns_on_the_path_are_left_alone():
    assert hits("docker.io", "^library/(.*)") == []
    assert hits("docker.io", "^rancher/(.*)") == []
    assert hits("registry.example.com", "^team/(.*)") == []
    # Another registry's name in the path is a repository like any other there.
    assert hits("registry.example.com", "^docker.io/(.*)") == []


def test_unanchored_or_grouped_heads_and_the_wildcard_mirror_are_not_judged():
    assert hits("docker.io", "docker.io/(.*)") == []
    assert hits("docker.io", "^(docker.io)/(.*)") == []
    assert hits("*", "^docker.io/(.*)") == []
