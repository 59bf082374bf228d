"""yaml.v2's view of a scalar node: the tag it decodes as, whether it is null.

PyYAML resolves scalars its own way (YAML 1.1 with differences), so the decoder in parse.py asks
these instead. They follow gopkg.in/yaml.v2 v2.4.0 (what wharfie v0.7.1 decodes registries.yaml
with): ``resolve`` and ``resolvableTag`` in resolve.go, ``decoder.scalar`` and ``decoder.prepare`` in
decode.go, and ``parser.mapping``/``parser.sequence``, which keep no tag on a collection.
"""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_LONG = "tag:yaml.org,2002:"
STR, NULL, BOOL = _LONG + "str", _LONG + "null", _LONG + "bool"
INT, FLOAT, TIMESTAMP = _LONG + "int", _LONG + "float", _LONG + "timestamp"
MERGE, BINARY = _LONG + "merge", _LONG + "binary"
NON_SPECIFIC = "!"  # `! value`: libyaml keeps the tag, so yaml.v2 decodes it as a plain string
# resolve.go resolvableTag: any other explicit tag (!!map on a scalar, !!binary, !custom) leaves the
# text as it is, and a string field takes it.
_RESOLVABLE = frozenset({"", STR, BOOL, INT, FLOAT, NULL, TIMESTAMP})

# strconv.ParseInt/ParseUint with base 0, after resolve.go drops every "_".
_INT_RE = re.compile(r"[-+]?(0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_TS_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([Tt ]|$)")
BOOLS = {**dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], True),
         **dict.fromkeys(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], False)}
NULLS = {"", "~", "null", "Null", "NULL"}


class TagMismatch(Exception):
    """yaml.v2 ``failf("cannot decode ...")``: an explicit tag its text does not resolve to. `unquoted`:
    the message without the text (RegistriesParseError.unquoted)."""

    def __init__(self, message: str, unquoted: str) -> None:
        super().__init__(message)
        self.unquoted = unquoted


def _int_fits(text: str) -> bool:
    sign = -1 if text[:1] == "-" else 1
    body = text.lstrip("+-")
    base = {"0b": 2, "0o": 8, "0x": 16}.get(body[:2].lower(), 8 if body[:1] == "0" and body != "0" else 10)
    digits = body[2:] if base in (2, 16) or body[:2].lower() == "0o" else body
    value = sign * int(digits or "0", base)
    return -(2 ** 63) <= value < 2 ** 64


def resolve_plain(value: str, timestamps: bool = True) -> str:
    """resolve.go ``resolve`` for untagged text: its short tag. ``timestamps`` is false under an
    explicit tag other than !!timestamp (resolve.go only tries dates for those two)."""
    if value in BOOLS:
        return "!!bool"
    if value in NULLS:
        return "!!null"
    if value in (".nan", ".NaN", ".NAN") or value.lstrip("+-") in (".inf", ".Inf", ".INF"):
        return "!!float"
    if value[:1] in tuple("+-.0123456789"):
        if timestamps and _TS_RE.match(value):
            return "!!timestamp"
        if value[:1] == ".":  # ParseFloat on the text as written: no "_" dropped, no int, no date
            return "!!float" if _FLOAT_RE.fullmatch(value) else "!!str"
        plain = value.replace("_", "")
        if _INT_RE.fullmatch(plain) and _int_fits(plain):
            return "!!int"
        if _FLOAT_RE.fullmatch(plain):
            return "!!float"
    return "!!str"  # "<<" too: '<' is not in resolve.go's hint table


def short(tag: str) -> str:
    return "!!" + tag[len(_LONG):] if tag.startswith(_LONG) else tag


def resolve_scalar(n: ScalarNode) -> str:
    """The short tag yaml.v2's ``decoder.scalar`` decodes ``n`` as; raises TagMismatch where it fails."""
    if n.tag == "" and n.style is not None:
        return "!!str"  # quoted and block scalars are never resolved
    if n.tag not in _RESOLVABLE:
        return short(n.tag)
    if n.tag == STR:
        return "!!str"
    got = resolve_plain(n.value, timestamps=n.tag in ("", TIMESTAMP))
    want = short(n.tag) if n.tag else got
    if want == got:
        return got
    if want == "!!float" and got == "!!int":
        return want
    raise TagMismatch(f"cannot decode {got} `{n.value}` as a {want}", f"cannot decode {got} as a {want}")


def is_plain(n: Node) -> bool:
    return isinstance(n, ScalarNode) and n.tag == "" and n.style is None


def is_merge_key(n: Node) -> bool:
    """decode.go ``isMerge``: "<<" written plain (or after a bare "!"), or tagged !!merge."""
    return (isinstance(n, ScalarNode) and n.value == "<<"
            and (is_plain(n) or n.tag in (MERGE, NON_SPECIFIC)))


def node_tag(n: Node) -> str:
    """The tag a type error names (decode.go ``terror``): the explicit one, else the resolved one."""
    if isinstance(n, MappingNode):
        return "!!map"
    if isinstance(n, SequenceNode):
        return "!!seq"
    if n.tag:
        return short(n.tag)
    return resolve_plain(n.value) if isinstance(n, ScalarNode) and n.style is None else "!!str"


def prepare_null(n: Node) -> bool:
    """decode.go ``prepare``: a pointer field is left for ``scalar`` to set (nil) only for these;
    ``Null`` allocates one. Quoted "null" and "~" count too (prepare does not look at the style)."""
    return isinstance(n, ScalarNode) and (n.tag == NULL or (n.tag == "" and (
        n.value in ("null", "~") or (n.value == "" and n.style is None))))


def written_as(n: Node, aliased: bool) -> str:
    """How a key was written when not as text of its own: "an alias", "a tag" (!!binary, !!str, a bare
    "!"...), "a block scalar"; "" for a plain or quoted one (a mapping key is refused before it matters)."""
    if aliased:
        return "an alias"
    if n.tag:
        return "a tag"
    return "a block scalar" if isinstance(n, ScalarNode) and n.style in ("|", ">") else ""
