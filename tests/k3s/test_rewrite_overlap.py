"""The rewrite-overlap rule finds what trying every pair of a mirror's patterns finds, without trying
every pair (one mirror with 500 rewrites took 104 s when it did)."""

from __future__ import annotations

import os

import re2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regui.k3s import lint
from regui.k3s.overlap import SAMPLE_MAX, Overlap, _anchored, examples, overlaps
from regui.k3s.rewrite import RewriteError, compile_pattern, replace_all

SETTINGS = settings(max_examples=int(os.environ.get("K3S_PROP_EXAMPLES", "200")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def every_pair(rewrites: dict[str, str], patterns: list[str]) -> list[Overlap]:
    """The rule's definition, pair by pair: the smallest sample of the two (each one's samples, and
    the first's first sample + "/" + the second's first) that both change."""

    def changes(pattern: str, name: str) -> bool:
        try:
            return replace_all(pattern, rewrites[pattern], name) != name
        except RewriteError:
            return False

    found = []
    for i, first in enumerate(patterns):
        for second in patterns[i + 1:]:
            samples = set(examples(first)) | set(examples(second))
            samples |= {f"{a}/{b}" for a in examples(first)[:1] for b in examples(second)[:1]}
            hit = next((s for s in sorted(samples) if changes(first, s) and changes(second, s)), None)
            if hit is not None:
                found.append(Overlap(first, second, hit))
    return found


def compilable(rewrites: dict[str, str]) -> list[str]:
    valid = []
    for pattern in rewrites:
        try:
            compile_pattern(pattern)
        except RewriteError:
            continue
        valid.append(pattern)
    return valid


# Anchors, literal prefixes sharing "/"-separated parts, alternations (top-level and in groups),
# flags, quoting and classes holding "|" or "]": what decides whether a pattern may be indexed.
atoms = st.sampled_from(["^", "a", "b", "/", "ab/", "(.*)", "(a|b)", "|", "x?", "[ab]", "[^/]+", "$", "(?i)",
                         "(?m)", "\\Q(\\E", "[]|]", "[[:alpha:]]", ".", "{2}", "*", "(", ")", "lib", "é"])
patterns = st.one_of(st.lists(atoms, max_size=6).map("".join),
                     st.builds(lambda a, lit, t: a + lit + t, st.sampled_from(["^", "^", "", "(?m)^", "^(?i)"]),
                               st.text(alphabet="ab/", max_size=5),
                               st.sampled_from(["", "(.*)", "(.*)$", "$", "b?", "|a", "[ab]+", "/(.*)", "a*"])),
                     st.text(max_size=6))
replacements = st.sampled_from(["x/$1", "", "a", "$0", "${1}b", "b/", "$$", "$1x"])


@SETTINGS
@given(st.dictionaries(patterns, replacements, max_size=12))
def test_it_finds_the_same_overlaps_as_trying_every_pair(rewrites):
    valid = compilable(rewrites)
    assert overlaps(rewrites, valid) == every_pair(rewrites, valid)


def test_an_alternation_after_the_caret_does_not_hide_an_overlap():
    # "ac" matches anywhere although the pattern starts with ^ (and RE2 says every match starts
    # with "ac"): only the joined sample "a//acb" shows that both change it.
    for second in ("^acb|ac", "^(?:acb)|ac"):
        rewrites = {"^a/(.*)": "x/$1", second: "y"}
        assert overlaps(rewrites, list(rewrites)) == [Overlap("^a/(.*)", second, "a//acb")]


def test_only_a_caret_nothing_can_bypass_counts_as_an_anchor():
    for anchored in ("^a/(.*)", "^(a|b)/", "^[|]a", "^[]|]a", "^[^]|]a", "^a(?i)b"):
        assert _anchored(anchored), anchored
    for loose in ("a/(.*)", "^a|b", "^*a", "^\\Q(\\E|a", "^[]|]|a", "^(a)|b", "(?m)^a"):
        assert not _anchored(loose), loose


def test_each_pattern_is_searched_a_few_times_not_once_per_other_pattern(monkeypatch):
    searches = 0
    search = re2._Regexp.search

    def counting(self, *args, **kwargs):
        nonlocal searches
        searches += 1
        return search(self, *args, **kwargs)

    monkeypatch.setattr(re2._Regexp, "search", counting)
    rules = "".join(f'      "^team{i}/(.*)": "mirror/team{i}/$1"\n' for i in range(200))
    findings = lint(f"mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n    rewrite:\n{rules}")
    assert not [f for f in findings if f.code == "rewrite-overlap"]
    assert searches < 10 * 200, searches


def test_a_pattern_whose_samples_would_be_huge_gets_none():
    assert examples("^t" + "x{1000}" * 5) == []
    assert [len(s) for s in examples("^t" + "x{1000}" * 4)] == [4001] * 3
    assert 4001 <= SAMPLE_MAX < 5001
