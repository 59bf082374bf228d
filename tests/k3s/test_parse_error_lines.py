"""The line numbers in K3s's message for a file it refuses, as yaml.v2 words them (decode.go ``parser.fail``).

yaml.v2 numbers from libyaml's 0-based marks: a parser error names the 0-based line of its problem (one less
than the line it is on), a scanner error adds the one back; a problem on the first line falls back to the
context's 0-based line, and a 0 there says no line at all. An unknown anchor (decode.go ``failf``) and a
character the reader refuses say no line either. regui repeats K3s's words (what the node's log shows) and
keeps the line the problem is on for the editor (``parse_error_line``).
Each message below is what yaml.v2 v2.4.0 returns for the same text.
"""

from __future__ import annotations

import pytest

from regui.k3s import generate_hosts

_CASES = {
    "a parser error names the line before": (
        "mirrors:\n  a.io:\n    endpoint: [b.io]\n   rewrite: {a: b}\n", "yaml: line 3: did not find expected key", 4),
    "a parser error on the first line's context says no line": (
        "- a\nb: c\n", "yaml: line 1: did not find expected '-' indicator", 2),
    "an unclosed flow sequence": ("a: [b\n", "yaml: line 1: did not find expected ',' or ']'", 2),
    "a scanner error names its own line": (
        "mirrors:\n  a.io:\n    endpoint:\n    -\tx.io\n", "yaml: line 4: found character that cannot start any token", 4),
    "a scanner error on the first line says no line": (
        "mirrors: @x\n", "yaml: found character that cannot start any token", 1),
    "an unquoted wildcard key on the first line": (
        "*: b\n", "yaml: did not find expected alphabetic or numeric character", 1),
    "an unknown anchor says no line": ("mirrors: {a.io: *m}\n", "yaml: unknown anchor 'm' referenced", 1),
    "a control character says no line": ("mirrors:\n  a.io: {}\n\x07\n", "yaml: control characters are not allowed", 3),
    "a mapping value on the first line": ("a: b: c\n", "yaml: mapping values are not allowed in this context", 1),
}


@pytest.mark.parametrize(("text", "message", "line"), _CASES.values(), ids=_CASES.keys())
def test_k3s_names_the_line_as_yaml_v2_does_and_regui_keeps_the_real_one(text, message, line):
    r = generate_hosts(text)
    assert (r.parse_error, r.parse_error_line) == (message, line)
