"""k8s-gcr-frozen: k8s.gcr.io gets nothing published since April 2023 (issue 11 item 17)."""

from __future__ import annotations

from regui.k3s import lint


def _frozen(text: str) -> list:
    return [f for f in lint(text) if f.code == "k8s-gcr-frozen"]


def test_an_endpoint_on_k8s_gcr_io_is_a_warning_that_suggests_registry_k8s_io():
    (finding,) = _frozen("mirrors:\n  registry.k8s.io:\n    endpoint: [K8S.gcr.io]\n")
    assert finding.severity == "warning" and finding.path == ("mirrors", "registry.k8s.io", "endpoint", 0)
    assert "registry.k8s.io" in finding.hint


def test_a_k8s_gcr_io_mirror_alone_says_registry_k8s_io_is_not_mirrored():
    (finding,) = _frozen("mirrors:\n  k8s.gcr.io:\n    endpoint: [https://m.example.com]\n")
    assert finding.path == ("mirrors", "k8s.gcr.io") and "not registry.k8s.io" in finding.message


def test_mirroring_both_names_is_fine_while_images_still_name_k8s_gcr_io():
    mirror = "    endpoint: [https://m.example.com]\n"
    assert _frozen("mirrors:\n  k8s.gcr.io:\n" + mirror + "  registry.k8s.io:\n" + mirror) == []
