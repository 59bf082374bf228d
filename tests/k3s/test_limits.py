"""The parser reads files up to regui's limits and refuses one past any of them, naming the line and
the reason: so no entry point (insight, save, import, push, the commands) works on an unbounded file."""

from __future__ import annotations

import os

import pytest
import re2
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from regui.k3s import lint, parse_registries
from regui.k3s.limits import (
    MAX_CONFIGS,
    MAX_ENDPOINTS,
    MAX_EXPANDED_BYTES,
    MAX_FILE_BYTES,
    MAX_MIRRORS,
    MAX_NODES,
    MAX_PATTERN_CHARS,
    MAX_PATTERN_COST,
    MAX_REWRITE_COPIES_BYTES,
    MAX_REWRITES,
    MAX_REWRITES_TOTAL,
    MAX_VALUE_CHARS,
    RegistriesTooLarge,
    pattern_cost,
)


def mirrors(count: int, endpoints: int = 1, rewrites: int = 0, first: int = 0) -> str:
    out = []
    for m in range(first, first + count):
        out.append(f"  reg{m}.example.com:\n    endpoint:\n")
        out += [f"      - https://m{m}-{e}.example.com\n" for e in range(endpoints)]
        if rewrites:
            out.append("    rewrite:\n")
            out += [f'      "^t{m}x{r}/(.*)": "x/$1"\n' for r in range(rewrites)]
    return "mirrors:\n" + "".join(out)


def configs(count: int) -> str:
    return "configs:\n" + "".join(f"  h{c}.example.com:\n    tls: {{ca_file: /c}}\n" for c in range(count))


def endpoint_of(length: int) -> str:
    return "mirrors:\n  docker.io:\n    endpoint:\n      - https://m.example.com/" + "p" * (length - 22) + "\n"


def pattern_of(pattern: str) -> str:
    # The explicit key form: YAML takes a `key: value` key of at most 1024 characters.
    return f"mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n    rewrite:\n      ? '{pattern}'\n      : x\n"


def copies(text: int) -> str:
    """One mirror with the most endpoints and rewrites, whose rewrites carry `text` characters."""
    each = text // MAX_REWRITES
    rules = "".join(f'      "^{r:02d}": "{"b" * (each - 3)}"\n' for r in range(MAX_REWRITES))
    ends = "".join(f"      - https://m{e}.example.com\n" for e in range(MAX_ENDPOINTS))
    return f"mirrors:\n  docker.io:\n    endpoint:\n{ends}    rewrite:\n{rules}"


def commented(size: int) -> str:
    head = "mirrors:\n  docker.io:\n    endpoint: [https://m.example.com]\n# "
    return head + "c" * (size - len(head) - 1) + "\n"


# limit: (a file just within it, the same just past it, the line named, words of the reason)
PER_MIRROR = MAX_REWRITE_COPIES_BYTES // MAX_ENDPOINTS
CASES = {
    "mirrors": (mirrors(MAX_MIRRORS), mirrors(MAX_MIRRORS + 1), 1 + 3 * MAX_MIRRORS + 1, "mirrors"),
    "configs": (configs(MAX_CONFIGS), configs(MAX_CONFIGS + 1), 1 + 2 * MAX_CONFIGS + 1, "configs"),
    "endpoints per mirror": (mirrors(1, MAX_ENDPOINTS), mirrors(1, MAX_ENDPOINTS + 1), 3 + MAX_ENDPOINTS + 1,
                             "endpoints"),
    "rewrites per mirror": (mirrors(1, 1, MAX_REWRITES), mirrors(1, 1, MAX_REWRITES + 1), 5 + MAX_REWRITES + 1,
                            "rewrites"),
    "rewrites in all": (mirrors(MAX_REWRITES_TOTAL // 10, 1, 10), mirrors(MAX_REWRITES_TOTAL // 10 + 1, 1, 10),
                        1 + 14 * (MAX_REWRITES_TOTAL // 10) + 5, "rewrites in all"),
    "value length": (endpoint_of(MAX_VALUE_CHARS), endpoint_of(MAX_VALUE_CHARS + 1), 4, "characters"),
    "pattern length": (pattern_of("^" + "a" * (MAX_PATTERN_CHARS - 1)), pattern_of("^" + "a" * MAX_PATTERN_CHARS),
                       5, "characters"),
    "pattern cost": (pattern_of(f"^x[^/]{{1,{MAX_PATTERN_COST // 32}}}"),
                     pattern_of(f"^x[^/]{{1,{MAX_PATTERN_COST // 32 + 1}}}"), 5, "instructions"),
    "rewrite copies": (copies(PER_MIRROR), copies(PER_MIRROR + MAX_REWRITES), 2, "copies"),
    # A map, its key and a list: three nodes besides the items.
    "nodes": ("x: [" + "a, " * (MAX_NODES - 3) + "]\n", "x: [" + "a, " * (MAX_NODES - 2) + "]\n", 1, "items"),
    "file size": (commented(MAX_FILE_BYTES), commented(MAX_FILE_BYTES + 1), None, "KiB"),
}


def test_the_pattern_cost_cases_sit_on_either_side_of_the_limit():
    assert pattern_cost(f"^x[^/]{{1,{MAX_PATTERN_COST // 32}}}") <= MAX_PATTERN_COST
    assert pattern_cost(f"^x[^/]{{1,{MAX_PATTERN_COST // 32 + 1}}}") > MAX_PATTERN_COST


@pytest.mark.parametrize("limit", sorted(CASES))
def test_a_file_at_the_limit_is_read(limit):
    within, _past, _line, _words = CASES[limit]
    parse_registries(within)
    assert [f.code for f in lint(within) if f.severity == "error"] == []


@pytest.mark.parametrize("limit", sorted(CASES))
def test_a_file_past_the_limit_is_refused_with_the_line_and_the_reason(limit):
    _within, past, line, words = CASES[limit]
    with pytest.raises(RegistriesTooLarge) as refused:
        parse_registries(past)
    assert refused.value.line == line
    assert words in refused.value.message and "regui" in refused.value.message
    assert [f.code for f in lint(past)] == ["too-large"]


def aliased(value_chars: int, uses: int) -> str:
    big = "a" * value_chars
    return f'x: &big "{big}"\nmirrors:\n' + "".join(f"  r{i}.example.com:\n    endpoint: [*big]\n" for i in range(uses))


def test_the_reported_attack_one_100_kb_string_aliased_500_times_is_refused():
    refused = lint(aliased(100_000, 500))
    assert [(f.code, f.line) for f in refused] == [("too-large", 1)]
    assert "100000 characters" in refused[0].message


def test_aliases_that_expand_a_small_file_past_the_limit_are_refused_naming_the_anchor():
    text = aliased(MAX_VALUE_CHARS, MAX_MIRRORS)
    assert len(text) < 20_000 and MAX_VALUE_CHARS * MAX_MIRRORS > MAX_EXPANDED_BYTES
    with pytest.raises(RegistriesTooLarge) as refused:
        parse_registries(text)
    assert "aliases expanded" in refused.value.message
    assert f"&big, defined on line 1, is used {MAX_MIRRORS} times" in refused.value.message


def test_the_same_values_without_aliases_under_the_limit_are_read():
    uses = MAX_EXPANDED_BYTES // (MAX_VALUE_CHARS + 64)
    assert len(parse_registries(aliased(MAX_VALUE_CHARS, uses)).mirrors) == uses


def test_a_billion_laughs_of_merge_keys_is_refused_as_too_large():
    levels = ["l0: &l0 {a: b, c: d}"] + [f"l{i}: &l{i} {{<<: [*l{i - 1}, *l{i - 1}]}}" for i in range(1, 30)]
    text = "\n".join(levels) + "\nmirrors:\n  docker.io:\n    rewrite: *l29\n"
    with pytest.raises(RegistriesTooLarge) as refused:
        parse_registries(text)
    assert "aliases expanded" in refused.value.message


def test_a_billion_laughs_of_nested_lists_is_refused():
    levels = ["l0: &l0 [a, b, c, d, e, f, g, h, i, j]"]
    levels += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    for target in ("endpoint", "rewrite"):
        assert [f.severity for f in lint("\n".join(levels) + f"\nmirrors:\n  docker.io:\n    {target}: *l9\n")] == [
            "error"]


patterns = st.lists(st.one_of(
    st.builds(lambda a, q: a + q, st.sampled_from(["a", ".", "[^a]", "\\pL", "\\PL", "[a-z]", "[[:alpha:]]", "\\D", "é",
                                                   "(?i)", "\\Qab\\E", "[]a]", "[\\pL]", "(a|b)", "(?:x.)"]),
              st.sampled_from(["", "*", "+", "?", "{2}", "{3,5}", "{0,9}", "{7,}", "{1,40}", "{0}"])),
    st.sampled_from(["(", ")", "|", "^", "$"])), min_size=1, max_size=8).map("".join)


@settings(max_examples=int(os.environ.get("K3S_PROP_EXAMPLES", "200")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(patterns)
@example("^(?i)*(?i){0,9}")  # a repeated anchor: RE2 writes out nine loops of it
def test_pattern_cost_is_never_far_below_what_re2_compiles(pattern):
    options = re2.Options()
    options.log_errors = False
    try:
        size = re2.compile(pattern, options).programsize
    except re2.error:
        return
    assert size <= 4 * pattern_cost(pattern) + 50
