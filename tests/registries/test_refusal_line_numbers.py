"""A refusal names one line: the real one, with K3s's own words when its log numbers the line otherwise."""

from __future__ import annotations

import pytest

from regui.registries.import_text import ImportRefused, read_registries


def refusal(text: str) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read_registries(text, "K3s")
    return caught.value


def test_it_says_the_real_line_beside_k3s_words_when_yaml_v2_counts_it_otherwise():
    exc = refusal('mirrors:\n  a.io:\n    endpoint: ["https://x"\n')
    assert exc.line == 4
    assert str(exc) == ("K3s would refuse this file at line 4 (its log would say: "
                        "yaml: line 3: did not find expected ',' or ']')")


def test_it_names_the_line_once_when_k3s_words_name_the_same_line():
    exc = refusal("a: b\nc\nd: e\n")
    assert exc.line == 3
    assert str(exc) == "K3s would refuse this file (yaml: line 3: could not find expected ':')"


def test_it_adds_the_line_to_words_that_name_none():
    exc = refusal("%YAML 1.2\n---\nmirrors: {}\n")
    assert str(exc) == "K3s would refuse this file (line 1: yaml: found incompatible YAML document)"
