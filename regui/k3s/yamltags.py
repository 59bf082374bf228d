"""yaml.v2's view of a scalar node: the implicit tag of a plain scalar, whether it is null.

PyYAML resolves scalars its own way (YAML 1.1 with differences), so the decoder in parse.py asks
these instead; they follow yaml.v2's resolve.go.
"""

from __future__ import annotations

import re

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

STR, NULL, BOOL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"
MERGE, BINARY = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:binary"

_INT_RE = re.compile(r"[-+]?(0b[01]+|0o?[0-7]+|0x[0-9a-fA-F]+|[0-9]+)")
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_TS_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([Tt ]|$)")
BOOLS = {**dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], True),
         **dict.fromkeys(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], False)}
NULLS = {"", "~", "null", "Null", "NULL"}


def resolve_plain(value: str) -> str:
    """yaml.v2's implicit tag for a plain scalar (only needed for error messages and bools)."""
    if value in BOOLS:
        return "!!bool"
    if value in NULLS:
        return "!!null"
    if value in (".nan", ".NaN", ".NAN") or value.lstrip("+-") in (".inf", ".Inf", ".INF"):
        return "!!float"
    if value[:1] in tuple("+-.0123456789"):
        if _TS_RE.match(value):
            return "!!timestamp"
        plain = value.replace("_", "")
        if _INT_RE.fullmatch(plain):
            return "!!int"
        if _FLOAT_RE.fullmatch(plain):
            return "!!float"
    if value == "<<":
        return "!!merge"
    return "!!str"


def short(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


def is_plain(n: Node) -> bool:
    return isinstance(n, ScalarNode) and n.tag == "" and n.style is None


def node_tag(n: Node) -> str:
    if n.tag:
        return short(n.tag)
    if isinstance(n, MappingNode):
        return "!!map"
    if isinstance(n, SequenceNode):
        return "!!seq"
    return resolve_plain(n.value) if isinstance(n, ScalarNode) and n.style is None else "!!str"


def is_null(n: Node) -> bool:
    if not isinstance(n, ScalarNode):
        return False
    return n.tag == NULL or (is_plain(n) and n.value in NULLS)


def prepare_null(n: Node) -> bool:
    """yaml.v2 ``prepare``: only these leave a pointer field nil (``NULL`` allocates one)."""
    return n.tag == NULL or (is_plain(n) and n.value in ("null", "~", ""))
