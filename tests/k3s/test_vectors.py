"""Every case of the K3s reference vectors, byte for byte."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from regui.k3s import explain_pull, generate_hosts

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "data" / "k3s-hosts-cases.yaml").read_text())
NO_DIR = "(none: built-in default)"


def _run(case: dict[str, Any]):
    i = case["input"]
    return generate_hosts(i["registries_yaml"], program=i["program"],
                          disable_default_endpoint=i["flags"]["disable_default_registry_endpoint"],
                          embedded_registry=i["flags"]["embedded_registry"])


def _pulls():
    for case in CASES:
        for ex in case["expected"].get("pull_examples", []):
            yield pytest.param(case, ex, id=f"{case['name']}:{ex['image']}")


def test_the_vectors_file_has_all_28_cases():
    assert len(CASES) == 28


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_it_writes_exactly_the_expected_hosts_dirs(case):
    result = _run(case)
    expected = case["expected"]
    assert result.parse_error == expected.get("parse_error")
    assert set(result.hosts_dirs) == set(expected["hosts_dirs"])
    for name, want in expected["hosts_dirs"].items():
        assert result.hosts_dirs[name] == want["hosts_toml"]
        assert result.hosts_in_order[name] == want["hosts_in_order"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_it_renders_the_expected_cri_auth(case):
    result = _run(case)
    assert result.cri_auth == case["expected"].get("cri_registry_auth", {})
    if "cri_auth_toml_v3" in case["expected"]:
        assert result.cri_auth_toml_v3 == case["expected"]["cri_auth_toml_v3"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hosts_toml_validity_matches_the_vector(case):
    valid = case["expected"].get("hosts_toml_is_valid_toml", True)
    for text in _run(case).hosts_dirs.values():
        try:
            tomllib.loads(text)
            ok = True
        except tomllib.TOMLDecodeError:
            ok = False
        assert ok == valid


@pytest.mark.parametrize(("case", "example"), list(_pulls()))
def test_explain_pull_requests_the_expected_manifest_urls(case, example):
    i = case["input"]
    p = explain_pull(i["registries_yaml"], example["image"], program=i["program"],
                     disable_default_endpoint=i["flags"]["disable_default_registry_endpoint"],
                     embedded_registry=i["flags"]["embedded_registry"])
    assert p.error is None
    assert (p.hosts_dir or NO_DIR) == example["hosts_dir_used"]
    want = example["manifest_requests_in_order"]
    assert len(p.attempts) == len(want)
    for attempt, req in zip(p.attempts, want, strict=True):
        if "nondeterministic_one_of" in req:
            assert sorted(attempt.urls) == sorted(req["nondeterministic_one_of"])
        else:
            assert attempt.urls == [req["url"]]
        assert attempt.rewritten_from == req.get("rewritten_from")


def test_the_backslash_case_falls_back_to_the_default_registry_only():
    case = next(c for c in CASES if c["name"] == "rewrite-with-backslash-breaks-hosts-toml")
    p = explain_pull(case["input"]["registries_yaml"], "nginx")
    assert [a.urls for a in p.attempts] == [["https://registry-1.docker.io/v2/library/nginx/manifests/latest"]]
    assert p.notes
