""""*" and a key spelled _default share certs.d/_default: which one K3s keeps is Go's map order."""

from __future__ import annotations

from regui.k3s.linter import lint


def collisions(text: str) -> list:
    return [f for f in lint(text) if f.code == "default-dir-collision"]


def test_it_warns_when_two_configs_write_the_default_directory():
    found = collisions('configs:\n  "*":\n    tls:\n      insecure_skip_verify: true\n'
                       '  _default:\n    tls:\n      ca_file: /ca.pem\n')
    assert [(f.severity, f.path, f.line) for f in found] == [("warning", ("configs", "_default"), 5)]
    assert "at random" in found[0].message


def test_two_mirrors_writing_the_default_directory_get_the_one_error_that_says_what_each_order_writes():
    # Not also this warning: "kept at random" beside the error's "the file's order on most starts", and
    # "which one it keeps" beside "appends these endpoints", on the same key, read as two findings at odds.
    found = lint('mirrors:\n  "*":\n    endpoint: ["https://a.example"]\n'
                 '  _default:\n    endpoint: ["https://b.example"]\n')
    assert [(f.code, f.path) for f in found if f.path == ("mirrors", "_default")] == [
        ("mirror-key-never-matches", ("mirrors", "_default"))]


def test_a_wildcard_mirror_settles_the_configs_pair():
    # The "*" mirror's own entry is stored after every config: the configs' order no longer matters.
    found = collisions('mirrors:\n  "*":\n    endpoint: ["https://a.example"]\n'
                       'configs:\n  "*":\n    tls:\n      insecure_skip_verify: true\n'
                       '  _default:\n    tls:\n      ca_file: /ca.pem\n')
    assert found == []


def test_either_key_alone_is_no_collision():
    assert collisions('configs:\n  "*":\n    tls:\n      insecure_skip_verify: true\n') == []
    assert collisions('configs:\n  _default:\n    tls:\n      ca_file: /ca.pem\n') == []
    assert collisions('mirrors:\n  "*":\n    endpoint: ["https://a.example"]\n'
                      'configs:\n  _default:\n    tls:\n      ca_file: /ca.pem\n') == []
