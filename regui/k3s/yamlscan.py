"""libyaml's tab rules for PyYAML's scanner, as yaml.v2 (a Go port of libyaml) applies them.

PyYAML skips only spaces between tokens, so it refused a trailing tab, a tab before a comment or one
inside brackets. libyaml skips a tab wherever no simple key can start (in flow context; after a scalar,
an anchor or a closing bracket) and reads a plain scalar's inner blanks, tabs included, as part of it.
A tab where block indentation is read (line start, after "- ", "? " or ": ") stays an error. After a
block scalar's "|" or ">" and its indicators, blanks (tabs too) and a comment ("#" with no space before
it) may end the line. A BOM that starts a line is skipped, and indents that line by one column.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_BLANKZ = "\0 \t\r\n\x85\u2028\u2029"


class LibyamlTabs(yaml.SafeLoader):
    def scan_to_next_token(self) -> None:
        if self.index == 0 and self.peek() == "\ufeff":
            self.forward()  # libyaml's reader drops the stream's BOM before any column is counted
        while True:
            if self.column == 0 and self.peek() == "\ufeff":
                # yaml_parser_scan_to_next_token skips a BOM that starts a line, and its skip()
                # counts it as a column (PyYAML's forward() does not): the line is one deeper.
                self.forward()
                self.column += 1
            while self.peek() == " " or (self.peek() == "\t" and (self.flow_level or not self.allow_simple_key)):
                self.forward()
            if self.peek() == "#":
                while self.peek() not in "\0\r\n\x85\u2028\u2029":
                    self.forward()
            if not self.scan_line_break():  # type: ignore[no-untyped-call]
                return
            if not self.flow_level:
                self.allow_simple_key = True

    def scan_plain(self) -> Any:
        """PyYAML's, but a ':' ends the scalar only before a blank, in flow context too (yaml.v2's
        yaml_parser_scan_plain_scalar): ``[x.io:]`` is the item "x.io:". A ',', '?', '[', ']', '{' or
        '}' still ends it in flow context, so ``[a?b]`` is "a", then a key indicator."""
        chunks: list[str] = []
        start_mark = end_mark = self.get_mark()
        indent = self.indent + 1
        spaces: list[str] | None = []
        while True:
            length = 0
            if self.peek() == "#":
                break
            while True:
                ch = self.peek(length)
                if ch in _BLANKZ or (ch == ":" and self.peek(length + 1) in _BLANKZ) or (
                        self.flow_level and ch in ",?[]{}"):
                    break
                length += 1
            if length == 0:
                break
            self.allow_simple_key = False
            chunks.extend(spaces or [])
            chunks.append(self.prefix(length))
            self.forward(length)
            end_mark = self.get_mark()
            spaces = self.scan_plain_spaces(indent, start_mark)
            if not spaces or self.peek() == "#" or (not self.flow_level and self.column < indent):
                break
        return yaml.tokens.ScalarToken("".join(chunks), True, start_mark, end_mark)

    def scan_plain_spaces(self, indent: int, start_mark: Any) -> list[str] | None:
        length = 0
        while self.peek(length) in " \t":
            length += 1
        if length and self.peek(length) not in "\r\n\x85\u2028\u2029":
            # Blanks before more text on the same line belong to the scalar, tabs included.
            whitespaces = self.prefix(length)
            self.forward(length)
            return [whitespaces]
        self.forward(length)  # trailing blanks before a line break are dropped, as PyYAML drops spaces
        return super().scan_plain_spaces(indent, start_mark)

    def scan_block_scalar_indicators(self, start_mark: Any) -> tuple[bool | None, int | None]:
        chomping: bool | None = None
        increment: int | None = None
        for _ in range(2):  # "+"/"-" and a digit 1-9, in either order, each at most once
            ch = self.peek()
            if ch in "+-" and chomping is None:
                chomping = ch == "+"
            elif ch in "0123456789" and increment is None:
                if ch == "0":
                    raise yaml.scanner.ScannerError("while scanning a block scalar", start_mark,
                                                    "found an indentation indicator equal to 0", self.get_mark())
                increment = int(ch)
            else:
                break
            self.forward()
        return chomping, increment

    def scan_block_scalar_ignored_line(self, start_mark: Any) -> None:
        while self.peek() in " \t":
            self.forward()
        if self.peek() == "#":
            while self.peek() not in "\0\r\n\x85\u2028\u2029":
                self.forward()
        if self.peek() not in "\0\r\n\x85\u2028\u2029":
            raise yaml.scanner.ScannerError("while scanning a block scalar", start_mark,
                                            "did not find expected comment or line break", self.get_mark())
        self.scan_line_break()  # type: ignore[no-untyped-call]


# PyYAML's words for a problem -> libyaml's (scannerc.go/parserc.go in yaml.v2), which K3s logs.
_PROBLEMS = (
    (re.compile(r"expected <block end>, but found .*"), {"while parsing a block mapping": "did not find expected key",
                                                         "while parsing a block collection":
                                                         "did not find expected '-' indicator"}),
    (re.compile(r"expected ',' or '\]', but got .*"), "did not find expected ',' or ']'"),
    (re.compile(r"expected ',' or '}', but got .*"), "did not find expected ',' or '}'"),
    (re.compile(r"expected the node content, but found .*"), "did not find expected node content"),
    (re.compile(r"expected '<document start>', but found .*"), "did not find expected <document start>"),
    (re.compile(r"sequence entries are not allowed here"), "block sequence entries are not allowed in this context"),
    (re.compile(r"mapping (keys|values) are not allowed here"), r"mapping \1 are not allowed in this context"),
    # PyYAML names the offending character; libyaml does not.
    (re.compile(r"found character .*? that cannot start any token"), "found character that cannot start any token"),
)


def libyaml_problem(context: str | None, problem: str) -> str:
    for pattern, words in _PROBLEMS:
        if pattern.fullmatch(problem):
            said = words.get(context or "", problem) if isinstance(words, dict) else words
            return pattern.sub(said, problem)
    return problem
