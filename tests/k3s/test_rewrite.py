"""Go regexp ReplaceAllString + Expand semantics for rewrites."""

from __future__ import annotations

import pytest

from regui.k3s.rewrite import (
    RewriteError,
    ambiguous_group_refs,
    compile_pattern,
    replace_all,
    rewrite_outcomes,
)


@pytest.mark.parametrize(("pattern", "repl", "src", "want"), [
    ("^rancher/(.*)", "mirrorproject/rancher-images/$1", "rancher/pause", "mirrorproject/rancher-images/pause"),
    ("rancher", "x", "rancher/rancher-agent", "x/x-agent"),
    ("(.*)", "quay.io/$1", "jetstack/cm", "quay.io/jetstack/cm"),
    ("a*", "-", "baaac", "-b-c-"),
    ("^rancher/(.*)", "$1_x", "rancher/a", ""),
    ("^rancher/(.*)", "${1}_x", "rancher/a", "a_x"),
    ("(?P<n>a)", "[${n}$$]", "bab", "b[a$]b"),
    ("(a)", "$2", "a", ""),
    ("(a)", "$", "a", "$"),
    ("(a)", "${1", "a", "${1"),
    ("x$", "y", "ax\n", "ax\n"),
])
def test_it_replaces_like_go(pattern, repl, src, want):
    assert replace_all(pattern, repl, src) == want


@pytest.mark.parametrize("pattern", ["(?!x)", "(a)\\1", "\\C", "a{2000}"])
def test_patterns_go_cannot_compile_are_rejected(pattern):
    with pytest.raises(RewriteError):
        compile_pattern(pattern)


def test_every_changing_pattern_is_a_possible_outcome():
    rw = {"strimzi/(.*)": "ib/strimzi/$1", "jetstack/(.*)": "ib/jetstack/$1", "(.*)": "quay.io/$1"}
    outcomes = {o.repository for o in rewrite_outcomes(rw, "jetstack/cm")}
    assert outcomes == {"quay.io/jetstack/cm", "ib/jetstack/cm"}


def test_a_pattern_that_matches_without_changing_does_not_stop_the_search():
    outcomes = rewrite_outcomes({"^(a)$": "$1", "^a$": "b"}, "a")
    assert [o.repository for o in outcomes] == ["b"]


def test_no_change_yields_the_original_repository():
    assert [o.repository for o in rewrite_outcomes({"^x": "y"}, "library/nginx")] == ["library/nginx"]


def test_dollar_number_followed_by_name_chars_is_flagged():
    assert ambiguous_group_refs("$1_x ${1}x $$1x $2") == ["$1_x"]


def test_a_nine_digit_reference_is_a_group_number_as_in_go_expand():
    # Go's extract reads up to nine digits as a number (then out of range: empty), never as a name.
    assert replace_all("(?P<123456789>a)", "[$123456789]", "a") == "[]"
    assert replace_all("(?P<1234567890>a)", "[$1234567890]", "a") == "[a]"


@pytest.mark.parametrize("pattern", ["(?P<é>a)", "(?<é>a)", "x|(?P<nom_é>a)"])
def test_a_group_name_go_rejects_is_skipped_like_any_pattern_go_cannot_compile(pattern):
    # Go's isValidCaptureName takes ASCII letters, digits and '_' only; RE2 in C++ takes Unicode.
    with pytest.raises(RewriteError, match="invalid named capture"):
        compile_pattern(pattern)


@pytest.mark.parametrize("pattern", ["[(?P<é>]", r"\(?P<é>", r"\Q(?P<é>\E", "(?P<_a1>x)", "(?<n>x)"])
def test_the_same_text_where_it_names_no_group_compiles(pattern):
    compile_pattern(pattern)
