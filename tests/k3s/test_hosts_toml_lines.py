"""K3s's trimEmpty reads the rendered template with bufio.Scanner (ScanLines drops one '\\r' before each
'\\n') and drops lines that strings.TrimSpace leaves empty (Go's Unicode spaces, not Python's, which also
count \\x1c-\\x1f). Only a rewrite can carry such characters into hosts.toml (spec §2.5.6-7)."""

from __future__ import annotations

import pytest

from regui.k3s import generate_hosts


def _rewrite_lines(replacement_yaml: str) -> list[str]:
    r = generate_hosts('mirrors:\n  a.io:\n    endpoint: [x.io]\n    rewrite: {"^a": "' + replacement_yaml + '"}\n')
    return r.hosts_dirs["a.io"].split("\n")[-5:]


def test_a_carriage_return_before_a_newline_in_a_rewrite_is_dropped_as_go_scans_lines():
    assert _rewrite_lines("b\\r\\nc")[-3:] == ['    "^a" = "b', 'c"', ""]


@pytest.mark.parametrize("code", [0x1C, 0x1D, 0x1E, 0x1F])
def test_a_line_of_a_separator_go_does_not_count_as_space_is_kept(code):
    assert _rewrite_lines(f"b\\n\\x{code:02x}\\nc")[-4:] == ['    "^a" = "b', chr(code), 'c"', ""]


@pytest.mark.parametrize("char", ["\\t", "\\v", "\\f", " ", "\\u00a0", "\\u2003", "\\u3000", "\\x85"])
def test_a_line_of_go_spaces_is_dropped(char):
    assert _rewrite_lines(f"b\\n{char}\\nc")[-3:] == ['    "^a" = "b', 'c"', ""]
