"""libyaml's tab rules for PyYAML's scanner, as yaml.v2 (a Go port of libyaml) applies them.

PyYAML skips only spaces between tokens, so it refused a trailing tab, a tab before a comment or one
inside brackets. libyaml skips a tab wherever no simple key can start (in flow context; after a scalar,
an anchor or a closing bracket) and reads a plain scalar's inner blanks, tabs included, as part of it.
A tab where block indentation is read (line start, after "- ", "? " or ": ") stays an error. After a
block scalar's "|" or ">" and its indicators, blanks (tabs too) and a comment ("#" with no space before
it) may end the line.

A BOM: readerc.go drops the stream's first one. scannerc.go ``yaml_parser_scan_to_next_token`` means to skip
one that starts a line ("Allow the BOM mark to start a line"), but yaml.v2's ``is_bom`` (yamlprivateh.go)
reads the first bytes of its decoding buffer, not those at the position it is given. So a BOM that starts a
later line is an ordinary character (``\ufeffconfigs:`` is an unknown key, ignored). The buffer starts with
a BOM only when the file starts with two: then, until the reader decodes its next 512 bytes, yaml.v2 skips
the first character of every line, whatever it is, and counts it as a column.

yaml.v2 is also stricter than PyYAML about directives (yamldirectives.py) and escapes: no escape of a
surrogate or of a code point beyond U+10FFFF, nor ``\\/`` (``yaml_parser_scan_flow_scalar``, which allows ``\\'``).
Its error messages number lines its own way (decode.go ``parser.fail``): see ``yaml_error``.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .yamldirectives import LibyamlDirectives

_BLANKZ = "\0 \t\r\n\x85\u2028\u2029"
_BREAKZ = "\0\r\n\x85\u2028\u2029"
_HEX = "0123456789ABCDEFabcdef"
_WORD = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-")  # yamlprivateh.go is_alpha
_URI = _WORD | frozenset(";/?:@&=+$,.!~*'()[]%")
# scannerc.go yaml_parser_scan_flow_scalar: PyYAML's escapes with "\'" and without "\/" (JSON's, not YAML 1.1's).
_ESCAPES = {**{k: v for k, v in yaml.scanner.Scanner.ESCAPE_REPLACEMENTS.items() if k != "/"}, "'": "'"}


# A UTF-8 leading octet's (mask, bits), for 1 to 4 octets (yamlprivateh.go width).
_UTF8_LEADS = ((0x80, 0x00), (0xE0, 0xC0), (0xF0, 0xE0), (0xF8, 0xF0))
# readerc.go yaml_parser_update_raw_buffer reads the input 512 bytes at a time (input_raw_buffer_size).
_RAW_CHUNK = 512


class LibyamlTabs(LibyamlDirectives, yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # Characters (the first BOM included) in which a line's first character is skipped (see the docstring).
        self.skip_line_starts = 0
        if stream.startswith("\ufeff\ufeff"):
            first = stream.encode("utf-8", "surrogatepass")[:_RAW_CHUNK]
            self.skip_line_starts = len(first.decode("utf-8", "ignore"))

    def scan_to_next_token(self) -> None:
        if self.index == 0 and self.peek() == "\ufeff":
            self.forward()  # libyaml's reader drops the stream's BOM before any column is counted
        while True:
            if self.column == 0 and self.index < self.skip_line_starts and self.peek() != "\0":
                # yaml.v2's skip() counts any character as a column (PyYAML's forward() counts no BOM, and
                # starts a line after a line break): the line is one deeper.
                self.forward()
                self.column = 1
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
        if self.peek() not in _BREAKZ[1:]:
            return []
        line_break = self.scan_line_break()  # type: ignore[no-untyped-call]
        self.allow_simple_key = True
        breaks: list[str] = []
        while True:
            if self._document_marker():
                return None
            # After a line break a tab is a blank once the line is indented past the scalar's indentation.
            while self.peek() == " " or (self.peek() == "\t" and self.column >= indent):
                self.forward()
            if self.peek() == "\t":
                raise yaml.scanner.ScannerError("while scanning a plain scalar", start_mark,
                                                "found a tab character that violates indentation", self.get_mark())
            if self.peek() not in _BREAKZ[1:]:
                break
            breaks.append(self.scan_line_break())  # type: ignore[no-untyped-call]
        if line_break != "\n":
            return [line_break, *breaks]
        return breaks or [" "]

    def _document_marker(self) -> bool:
        return self.column == 0 and self.prefix(3) in ("---", "...") and self.peek(3) in _BLANKZ

    def scan_flow_scalar_non_spaces(self, double: bool, start_mark: Any) -> list[str]:
        """PyYAML's, with libyaml's escapes and errors (see the module docstring)."""
        chunks: list[str] = []
        while True:
            length = 0
            while self.peek(length) not in "'\"\\\0 \t\r\n\x85\u2028\u2029":
                length += 1
            if length:
                chunks.append(self.prefix(length))
                self.forward(length)
            ch = self.peek()
            if not double and ch == "'" and self.peek(1) == "'":
                chunks.append("'")
                self.forward(2)
            elif (double and ch == "'") or (not double and ch in '"\\'):
                chunks.append(ch)
                self.forward()
            elif double and ch == "\\":
                self.forward()
                chunks.extend(self._escape(start_mark))
            else:
                return chunks

    def _escape(self, start_mark: Any) -> list[str]:
        ch = self.peek()
        if ch in _ESCAPES:
            self.forward()
            return [_ESCAPES[ch]]
        if ch in self.ESCAPE_CODES:
            length = self.ESCAPE_CODES[ch]
            self.forward()
            if any(self.peek(k) not in _HEX for k in range(length)):
                raise yaml.scanner.ScannerError("while parsing a quoted scalar", start_mark,
                                                "did not find expected hexdecimal number", self.get_mark())
            code = int(self.prefix(length), 16)
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                raise yaml.scanner.ScannerError("while parsing a quoted scalar", start_mark,
                                                "found invalid Unicode character escape code", self.get_mark())
            self.forward(length)
            return [chr(code)]
        if ch in _BREAKZ[1:]:
            self.scan_line_break()  # type: ignore[no-untyped-call]
            return list(self.scan_flow_scalar_breaks(True, start_mark))
        raise yaml.scanner.ScannerError("while parsing a quoted scalar", start_mark, "found unknown escape character",
                                        self.get_mark())

    def scan_tag(self) -> Any:
        """scannerc.go yaml_parser_scan_tag: a handle is "!", word characters and a closing "!" (PyYAML took the
        first "!" before a space, so "!a.b!c" broke); anything else is a local tag. A tab ends a tag too."""
        start_mark = self.get_mark()
        handle: str | None
        if self.peek(1) == "<":
            self.forward(2)
            handle, suffix = None, self._tag_uri("", start_mark)
            if self.peek() != ">":
                raise yaml.scanner.ScannerError("while scanning a tag", start_mark, "did not find the expected '>'",
                                                self.get_mark())
            self.forward()
        else:
            length = 1
            while self.peek(length) in _WORD:
                length += 1
            if self.peek(length) == "!":
                handle = self.prefix(length + 1)
                self.forward(length + 1)
                suffix = self._tag_uri("", start_mark)
            else:
                head = self.prefix(length)
                self.forward(length)
                suffix = self._tag_uri(head, start_mark)
                handle = "!" if suffix else None
                suffix = suffix or "!"
        if self.peek() not in _BLANKZ:
            raise yaml.scanner.ScannerError("while scanning a tag", start_mark,
                                            "did not find expected whitespace or line break", self.get_mark())
        return yaml.tokens.TagToken((handle, suffix), start_mark, self.get_mark())

    def _tag_uri(self, head: str, start_mark: Any) -> str:
        """scannerc.go yaml_parser_scan_tag_uri: ``head`` without its "!", then URI characters."""
        chunks = [head[1:]]
        while self.peek() in _URI:
            if self.peek() == "%":
                chunks.append(self.scan_uri_escapes("tag", start_mark))
            else:
                chunks.append(self.peek())
                self.forward()
        if not head and len(chunks) == 1:
            raise yaml.scanner.ScannerError("while parsing a tag", start_mark, "did not find expected tag URI",
                                            self.get_mark())
        return "".join(chunks)

    def scan_uri_escapes(self, name: str, start_mark: Any) -> str:
        """scannerc.go yaml_parser_scan_uri_escapes: the octets of one character, as many as its leading
        octet's high bits say, each trailing one 10xxxxxx, in libyaml's words (PyYAML said Python's codec
        error). Only those bits are checked (an overlong or a surrogate's octets pass): what they do not
        decode to shows as U+FFFD, never a lone surrogate a page could not encode."""
        octets = bytearray()
        width = 0
        while True:
            if not (self.peek() == "%" and self.peek(1) in _HEX and self.peek(2) in _HEX):
                raise self._uri_error(start_mark, "did not find URI escaped octet")
            octet = int(self.prefix(3)[1:], 16)
            if not width:
                width = next((w for w, (mask, bits) in enumerate(_UTF8_LEADS, 1) if octet & mask == bits), 0)
                if not width:
                    raise self._uri_error(start_mark, "found an incorrect leading UTF-8 octet")
            elif octet & 0xC0 != 0x80:
                raise self._uri_error(start_mark, "found an incorrect trailing UTF-8 octet")
            octets.append(octet)
            self.forward(3)
            width -= 1
            if not width:
                return octets.decode("utf-8", "replace")

    def _uri_error(self, start_mark: Any, problem: str) -> yaml.scanner.ScannerError:
        return yaml.scanner.ScannerError("while parsing a tag", start_mark, problem, self.get_mark())

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

    def scan_block_scalar_indentation(self) -> Any:
        chunks, max_indent, end_mark = super().scan_block_scalar_indentation()
        self._no_tab_in_indentation(None)
        return chunks, max_indent, end_mark

    def scan_block_scalar_breaks(self, indent: int) -> Any:
        chunks, end_mark = super().scan_block_scalar_breaks(indent)
        self._no_tab_in_indentation(indent)
        return chunks, end_mark

    def _no_tab_in_indentation(self, indent: int | None) -> None:
        """scannerc.go yaml_parser_scan_block_scalar_breaks: PyYAML ended the scalar at such a tab (and then
        refused it as a token); yaml.v2 refuses it here, in its own words."""
        if self.peek() == "\t" and (indent is None or self.column < indent):
            raise yaml.scanner.ScannerError("while scanning a block scalar", None,
                                            "found a tab character where an indentation space is expected",
                                            self.get_mark())

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
    (re.compile(r"expected alphabetic or numeric character, but found .*"),
     "did not find expected alphabetic or numeric character"),
)


def libyaml_problem(context: str | None, problem: str) -> str:
    for pattern, words in _PROBLEMS:
        if pattern.fullmatch(problem):
            said = words.get(context or "", problem) if isinstance(words, dict) else words
            return pattern.sub(said, problem)
    return problem


def yaml_error(e: yaml.YAMLError, text: str) -> tuple[str, int | None]:
    """yaml.v2's message for a file PyYAML refused, and the line the problem is on (for the editor).

    decode.go ``parser.fail`` numbers lines from libyaml's 0-based marks: a parser error says the problem's
    0-based line (one less than the line it is on), a scanner error that line plus one, and either falls back
    to the context's 0-based line when the problem is on the first line, or says no line at all. The reader's
    refusal of a character and an unknown anchor (decode.go ``failf``) say none either.
    """
    problem_mark = getattr(e, "problem_mark", None)
    context_mark = getattr(e, "context_mark", None)
    mark = problem_mark or context_mark
    line = mark.line + 1 if mark is not None else None
    problem = getattr(e, "problem", None) or str(e)
    said = 0
    if isinstance(e, yaml.reader.ReaderError):
        problem = "control characters are not allowed"
        line = text.count("\n", 0, e.position) + 1
    elif isinstance(e, yaml.composer.ComposerError) and "undefined alias" in problem:
        problem = "unknown anchor " + problem.split("alias", 1)[1].strip() + " referenced"
    elif problem_mark is not None and problem_mark.line:
        said = problem_mark.line + (1 if isinstance(e, yaml.scanner.ScannerError) else 0)
    elif context_mark is not None:
        said = context_mark.line
    problem = libyaml_problem(getattr(e, "context", None), problem)
    return f"yaml: {f'line {said}: ' if said else ''}{problem}", line
