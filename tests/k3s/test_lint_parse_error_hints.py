"""What lint tells a person to do about a file K3s refuses, for the refusals yaml.v2 has and PyYAML had not."""

from __future__ import annotations

import pytest

from regui.k3s import lint

_BODY = "mirrors:\n  docker.io:\n    endpoint: [https://mirror.example.com]\n"
_CASES = {
    "a YAML 1.2 directive": (f"%YAML 1.2\n---\n{_BODY}", "only %YAML 1.1"),
    "an unknown directive": (f"%FOO\n---\n{_BODY}", "only %YAML 1.1"),
    "JSON's escaped slash": ('mirrors:\n  a.io:\n    endpoint: ["https:\\/\\/m.example.com"]\n', "no \\/"),
    "a short hex escape": ('mirrors:\n  a.io:\n    endpoint: ["\\x4"]\n', "no \\/"),
    "an escaped surrogate": ('mirrors:\n  a.io:\n    endpoint: ["\\ud800"]\n', "no \\/"),
    "a tab in a continuation line's indentation": (
        "configs:\n  b.io:\n    auth:\n      password: pa\n\t        ss\n", "spaces only"),
}


@pytest.mark.parametrize(("text", "words"), _CASES.values(), ids=_CASES.keys())
def test_a_refusal_yaml_v2_has_comes_with_a_hint_that_names_its_cause(text, words):
    [finding] = [f for f in lint(text) if f.code == "parse-error"]
    assert words in finding.hint
