"""YAML directives as yaml.v2 v2.4.0 reads them, for PyYAML's scanner and parser (a mixin of yamlscan's loader).

libyaml (scannerc.go ``yaml_parser_scan_directive`` and its helpers) knows only ``%YAML`` and ``%TAG``, takes a
tab for a space between a directive's parts, and says its own words when one is malformed; parserc.go
``yaml_parser_process_directives`` accepts only version 1.1. PyYAML skips unknown directives, accepts any 1.x,
and wants spaces. Line numbers follow from the marks (see yamlscan.yaml_error).
"""

from __future__ import annotations

from typing import Any

import yaml

_BLANK = " \t"
_BLANKZ = "\0 \t\r\n\x85\u2028\u2029"
_BREAKZ = "\0\r\n\x85\u2028\u2029"
_WORD = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-")  # yamlprivateh.go is_alpha
_MAX_VERSION_DIGITS = 9  # scannerc.go max_number_length


class LibyamlDirectives:
    """Methods of a yaml.SafeLoader subclass (listed first in its bases)."""

    def _error(self: Any, start_mark: Any, problem: str) -> yaml.scanner.ScannerError:
        return yaml.scanner.ScannerError("while scanning a directive", start_mark, problem, self.get_mark())

    def _skip_blanks(self: Any) -> None:
        while self.peek() in _BLANK:
            self.forward()

    def scan_directive(self: Any) -> Any:
        start_mark = self.get_mark()
        self.forward()  # "%"
        length = 0
        while self.peek(length) in _WORD:
            length += 1
        if not length:
            raise self._error(start_mark, "could not find expected directive name")
        name = self.prefix(length)
        self.forward(length)
        if self.peek() not in _BLANKZ:
            raise self._error(start_mark, "found unexpected non-alphabetical character")
        if name == "YAML":
            value: Any = self._version(start_mark)
        elif name == "TAG":
            value = self._tag_directive(start_mark)
        else:
            raise self._error(start_mark, "found unknown directive name")
        end_mark = self.get_mark()
        self._skip_blanks()
        if self.peek() == "#":
            while self.peek() not in _BREAKZ:
                self.forward()
        if self.peek() not in _BREAKZ:
            raise self._error(start_mark, "did not find expected comment or line break")
        self.scan_line_break()
        return yaml.tokens.DirectiveToken(name, value, start_mark, end_mark)

    def _version(self: Any, start_mark: Any) -> tuple[int, int]:
        self._skip_blanks()
        major = self._version_number(start_mark)
        if self.peek() != ".":
            raise self._error(start_mark, "did not find expected digit or '.' character")
        self.forward()
        return major, self._version_number(start_mark)

    def _version_number(self: Any, start_mark: Any) -> int:
        length = 0
        while "0" <= self.peek(length) <= "9":
            length += 1
            if length > _MAX_VERSION_DIGITS:
                raise self._error(start_mark, "found extremely long version number")
        if not length:
            raise self._error(start_mark, "did not find expected version number")
        number = int(self.prefix(length))
        self.forward(length)
        return number

    def _tag_directive(self: Any, start_mark: Any) -> tuple[str, str]:
        self._skip_blanks()
        if self.peek() != "!":
            raise self._error(start_mark, "did not find expected '!'")
        length = 1
        while self.peek(length) in _WORD:
            length += 1
        if self.peek(length) == "!":
            length += 1
        elif length > 1:  # "!" alone is the primary handle; "!x" must close with "!"
            raise self._error(start_mark, "did not find expected '!'")
        handle = self.prefix(length)
        self.forward(length)
        if self.peek() not in _BLANK:
            raise self._error(start_mark, "did not find expected whitespace")
        self._skip_blanks()
        prefix = self._tag_uri("", start_mark)
        if self.peek() not in _BLANKZ:
            raise self._error(start_mark, "did not find expected whitespace or line break")
        return handle, prefix

    def process_directives(self: Any) -> Any:
        """PyYAML's, with yaml.v2's rules: %YAML must say 1.1 (PyYAML accepts any 1.x), and its words."""
        self.yaml_version = None
        self.tag_handles = {}
        while self.check_token(yaml.tokens.DirectiveToken):
            token = self.get_token()
            if token.name == "YAML":
                if self.yaml_version is not None:
                    raise yaml.parser.ParserError(None, None, "found duplicate %YAML directive", token.start_mark)
                if tuple(token.value) != (1, 1):
                    raise yaml.parser.ParserError(None, None, "found incompatible YAML document", token.start_mark)
                self.yaml_version = token.value
            elif token.name == "TAG":
                handle, prefix = token.value
                if handle in self.tag_handles:
                    raise yaml.parser.ParserError(None, None, "found duplicate %TAG directive", token.start_mark)
                self.tag_handles[handle] = prefix
        value = self.yaml_version, (self.tag_handles.copy() if self.tag_handles else None)
        for key, prefix in self.DEFAULT_TAGS.items():
            self.tag_handles.setdefault(key, prefix)
        return value
