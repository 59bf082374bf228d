"""PyYAML's composer as parse.py needs it: tags left as written, duplicate anchors allowed, nodes counted,
and each use of an alias told apart (a cycle from a node reached twice; a name written as an alias)."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .limits import MAX_NODES, RegistriesTooLarge
from .yamlscan import LibyamlTabs
from .yamltags import NON_SPECIFIC


class Loader(LibyamlTabs):
    """Composer only: tags stay empty unless written explicitly, duplicate anchors allowed."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.uses: dict[str, tuple[int, int]] = {}  # anchor -> (line defined, times used)
        self.nodes = 0
        # id of a collection an alias stands for -> the anchor's name. yaml.v2 (decode.go ``alias``) refuses an
        # alias only while that same alias is being decoded, so each use gets its own (shallow) copy of the
        # node to be told apart by: a cycle passes through one use twice, a node reached twice does not.
        self.aliases: dict[int, str] = {}
        self.alias_lines: dict[int, int] = {}  # id of a scalar an alias stands for -> the alias's line

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:  # noqa: ARG002
        return ""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # types-PyYAML leaves it unannotated
        self.nodes += 1
        if self.nodes > MAX_NODES:
            line = event.start_mark.line + 1
            raise RegistriesTooLarge(f"line {line}: more than {MAX_NODES} keys, values and items; regui reads "
                                     "files of at most that many", line)
        anchor = getattr(event, "anchor", None)
        if anchor is not None and not isinstance(event, yaml.AliasEvent):
            # libyaml lets a later anchor of the same name shadow the earlier one.
            self.anchors.pop(anchor, None)
            self.uses[anchor] = (event.start_mark.line + 1, 0)
        elif anchor is not None and anchor in self.uses:  # said in an expansion error
            defined, uses = self.uses[anchor]
            self.uses[anchor] = (defined, uses + 1)
        node = super().compose_node(parent, index)
        if isinstance(event, yaml.AliasEvent) and isinstance(node, MappingNode | SequenceNode):
            node = copy.copy(node)
            self.aliases[id(node)] = str(anchor)
        elif isinstance(event, yaml.AliasEvent) and node is not None and event.start_mark is not None:
            node = copy.copy(node)  # its own copy: a registry name says it was written as an alias, and where
            self.alias_lines[id(node)] = event.start_mark.line + 1
        return node

    def compose_scalar_node(self, anchor: Any) -> ScalarNode:
        # PyYAML resolves a bare "!" like no tag; libyaml keeps it, and yaml.v2 then decodes the text
        # as a string (`! yes` is "yes", `! ~` is "~").
        bare = self.peek_event().tag == NON_SPECIFIC  # type: ignore[no-untyped-call]
        node = super().compose_scalar_node(anchor)
        if bare:
            node.tag = NON_SPECIFIC
        return node
