"""Decode registries.yaml the way K3s does (wharfie types + ``gopkg.in/yaml.v2``, non-strict).

PyYAML's constructor resolves scalars before we see them (``0123`` -> 83, ``yes`` -> True),
while yaml.v2 hands the *original text* to string fields. So we only use PyYAML's composer
and decode the node graph ourselves, following yaml.v2's decoder: type errors accumulate
into one "unmarshal errors" message, merge keys are applied in position, duplicate keys
overwrite (maps reached through a repeated struct field are merged), unknown keys are ignored.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .limits import MAX_FILE_BYTES, Budget, RegistriesTooLarge, check_counts, size_text
from .model import TLS, Auth, Mirror, Registries, RegistriesParseError, RegistryConfig
from .yamlcompose import Loader
from .yamlscan import yaml_error
from .yamltags import BOOLS, TagMismatch, is_merge_key, node_tag, prepare_null, resolve_scalar, written_as

_MAX_STEPS = 2_000_000  # yaml.v2 also refuses documents that explode through aliases

_T = TypeVar("_T")
# A known struct field's name and value node (see _Decoder.struct and named_map).
_FieldSetter = Callable[[str, Node], object]


def _line(n: Node) -> int:
    return n.start_mark.line + 1


# An anchor's name can be any word of the file (its password too): not said of a file the reader did not write.
_ITSELF = "yaml: an anchor's value contains itself"


class _Fatal(Exception):
    def __init__(self, message: str, line: int | None = None, unquoted: str = "") -> None:
        self.message, self.line, self.unquoted = message, line, unquoted


_FIELDS = {
    "registries.Registry": {"mirrors", "configs", "auths"},
    "registries.Mirror": {"endpoint", "rewrite"},
    "registries.RegistryConfig": {"auth", "tls"},
    "registries.AuthConfig": {"username", "password", "auth", "identity_token"},
    "registries.TLSConfig": {"ca_file", "cert_file", "key_file", "insecure_skip_verify"},
}


class _Decoder:
    def __init__(self, reg: Registries, budget: Budget, loader: Loader) -> None:
        self.reg = reg
        self.budget = budget
        self.aliases, self.alias_lines = loader.aliases, loader.alias_lines
        self.terrors: list[tuple[int, str, str]] = []  # line, K3s's message, the same without the value
        self.active: set[int] = set()
        self.steps = 0

    def _tick(self, n: Node) -> None:
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise _Fatal("yaml: document contains excessive aliasing", _line(n))
        if id(n) in self.active and id(n) in self.aliases:  # before its value's type is looked at
            raise _Fatal(f"yaml: anchor '{self.aliases[id(n)]}' value contains itself", _line(n), _ITSELF)

    def at(self, n: Node) -> int:
        """The line a value is used on, for lint and the import: an alias's own, not its anchor's."""
        return self.alias_lines.get(id(n), _line(n))

    def terror(self, n: Node, gotype: str) -> None:
        tag = node_tag(n)
        value = ""
        if tag not in ("!!seq", "!!map"):
            raw = n.value if isinstance(n, ScalarNode) else ""
            b = raw.encode("utf-8", "surrogatepass")
            value = raw if len(b) <= 10 else b[:7].decode("utf-8", "replace") + "..."
            value = f" `{value}`"
        self.terrors.append((_line(n), f"line {_line(n)}: cannot unmarshal {tag}{value} into {gotype}",
                             f"line {_line(n)}: cannot unmarshal {tag} into {gotype}"))

    def ignore(self, path: tuple[str, ...], key: Node | None) -> None:
        self.reg.ignored_keys.append(".".join(path))
        self.reg.ignored_paths.append(path)
        if key is not None:
            self.reg.lines[path] = self.at(key)

    # -- scalars -------------------------------------------------------------------------
    def string(self, n: Node) -> str | None:
        value = self._string(n)
        if value is not None:
            self.budget.spend(value, _line(n))
        return value

    def resolved(self, n: ScalarNode) -> str:
        """decode.go ``scalar``'s first step: the tag ``n`` decodes as, or yaml.v2's fatal error."""
        return self._decoded(n)[0]

    def _decoded(self, n: ScalarNode) -> tuple[str, bytes | None]:
        """The tag ``n`` decodes as, and a ``!!binary`` value's bytes (decoded once: checked and read)."""
        try:
            tag = resolve_scalar(n)
        except TagMismatch as e:
            raise _Fatal(f"yaml: {e}", _line(n), f"yaml: {e.unquoted}") from None
        if tag != "!!binary":
            return tag, None
        try:
            return tag, base64.b64decode(n.value.replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            raise _Fatal("yaml: !!binary value contains invalid base64 data", _line(n)) from None

    def null(self, n: Node) -> bool:
        """Whether yaml.v2 decodes ``n`` as null (the target's zero value)."""
        return isinstance(n, ScalarNode) and self.resolved(n) == "!!null"

    def _string(self, n: Node) -> str | None:
        self._tick(n)
        if not isinstance(n, ScalarNode):
            self.terror(n, "string")
            return None
        tag, data = self._decoded(n)
        if data is not None:
            return data.decode("utf-8", "replace")
        return "" if tag == "!!null" else n.value

    def boolean(self, n: Node) -> bool | None:
        self._tick(n)
        if isinstance(n, ScalarNode):
            tag = self.resolved(n)
            if tag == "!!null":
                return False
            if tag == "!!bool":
                return BOOLS[n.value]
        self.terror(n, "bool")
        return None

    # -- containers ----------------------------------------------------------------------
    def pairs(self, n: MappingNode, gotype: str) -> list[tuple[Node, Node]]:
        """Key/value pairs in decode order, with ``<<`` merges expanded in place."""
        out: list[tuple[Node, Node]] = []
        for k, v in n.value:
            self._tick(k)
            if is_merge_key(k):
                out.extend(self.merge(v, gotype))
            else:
                self.budget.entry(_line(k))
                out.append((k, v))
        return out

    def merge(self, v: Node, gotype: str) -> list[tuple[Node, Node]]:
        want = "yaml: map merge requires map or sequence of maps as the value"
        if isinstance(v, MappingNode):
            return self.guarded(v, lambda: self.pairs(v, gotype))
        if isinstance(v, SequenceNode):
            out: list[tuple[Node, Node]] = []
            for item in reversed(v.value):  # earlier maps take precedence: decoded last
                if not isinstance(item, MappingNode):
                    raise _Fatal(want, _line(item))
                out.extend(self.guarded(item, functools.partial(self.pairs, item, gotype)))
            return out
        raise _Fatal(want, _line(v))

    def guarded(self, n: Node, fn: Callable[[], _T]) -> _T:
        if id(n) in self.active:
            raise _Fatal(f"yaml: anchor '{self.aliases.get(id(n), '')}' value contains itself", _line(n), _ITSELF)
        self.active.add(id(n))
        try:
            return fn()
        finally:
            self.active.discard(id(n))

    def struct(self, n: Node, gotype: str, path: tuple[Any, ...], setter: _FieldSetter) -> bool:
        """Decode a mapping into a struct; ``setter(key, value_node)`` handles known fields."""
        self._tick(n)
        if self.null(n):
            return True
        if not isinstance(n, MappingNode):
            self.terror(n, gotype)
            return False

        def run() -> bool:
            for k, v in self.pairs(n, gotype):
                name = self.string(k)
                if name is None:
                    continue
                if name in _FIELDS[gotype]:
                    setter(name, v)
                else:
                    self.ignore((*path, name), k)
            return True

        return self.guarded(n, run)

    def str_map(self, n: Node, target: dict[str, str], path: tuple[Any, ...]) -> dict[str, str]:
        self._tick(n)
        if self.null(n):
            return {}
        if not isinstance(n, MappingNode):
            self.terror(n, "map[string]string")
            return target

        def run() -> dict[str, str]:
            for k, v in self.pairs(n, "map[string]string"):
                key = self.string(k)
                val = self.string(v) if key is not None else None
                if key is not None and val is not None:
                    target[key] = val
                    self.reg.lines[(*path, key)] = self.at(k)
            return target

        return self.guarded(n, run)

    def str_list(self, n: Node, path: tuple[Any, ...]) -> list[str]:
        self._tick(n)
        if self.null(n):
            return []
        if not isinstance(n, SequenceNode):
            self.terror(n, "[]string")
            return []

        def run() -> list[str]:
            out: list[str] = []
            for item in n.value:
                s = self.string(item)
                if s is not None:
                    self.reg.lines[(*path, len(out))] = self.at(item)
                    out.append(s)
            return out

        return self.guarded(n, run)

    def named_map(self, n: Node, gotype: str, path: tuple[Any, ...], decode_value: _FieldSetter,
                  target: dict[str, Any] | None = None) -> None:
        self._tick(n)
        if self.null(n):
            if target is not None:
                target.clear()  # yaml.v2 sets a map field to nil on null, even after a duplicate key
            return
        if not isinstance(n, MappingNode):
            self.terror(n, f"map[string]{gotype}")
            return

        def run() -> None:
            for k, v in self.pairs(n, f"map[string]{gotype}"):
                key = self.string(k)
                if key is not None:
                    self.reg.lines[(*path, key)] = self.at(k)
                    if form := written_as(k, id(k) in self.alias_lines):
                        self.reg.name_forms[(*path, key)] = (self.at(k), form)
                    decode_value(key, v)

        self.guarded(n, run)

    # -- schema --------------------------------------------------------------------------
    def registry(self, n: Node) -> None:
        def field_(name: str, v: Node) -> None:
            if name == "mirrors":
                self.named_map(v, "registries.Mirror", ("mirrors",), self.mirror, self.reg.mirrors)
            elif name == "configs":
                self.named_map(v, "registries.RegistryConfig", ("configs",), self.config, self.reg.configs)
            else:  # `auths` is decoded by wharfie but never used by K3s
                self.ignore(("auths",), None)  # kept only so that regui withholds its credentials where they show
                self.named_map(v, "registries.AuthConfig", ("auths",), lambda k, node: self.reg.auths.__setitem__(
                    k, self.auth(node, ("auths", k), Auth())))

        self.struct(n, "registries.Registry", (), field_)

    def mirror(self, key: str, n: Node) -> None:
        m, path = Mirror(), ("mirrors", key)

        def field_(name: str, v: Node) -> None:
            if name == "endpoint":
                m.endpoints = self.str_list(v, (*path, "endpoint"))
            else:
                m.rewrites = self.str_map(v, m.rewrites, (*path, "rewrite"))

        if self.struct(n, "registries.Mirror", path, field_):
            self.reg.mirrors[key] = m

    def config(self, key: str, n: Node) -> None:
        c, path = RegistryConfig(), ("configs", key)

        def field_(name: str, v: Node) -> None:
            self.reg.lines[(*path, name)] = self.at(v)
            if prepare_null(v):  # decoded into the pointer itself: nil, or a type error naming it
                if self.null(v):
                    setattr(c, name, None)
                else:
                    self.terror(v, "*registries." + ("AuthConfig" if name == "auth" else "TLSConfig"))
            elif name == "auth":
                c.auth = self.auth(v, (*path, "auth"), c.auth or Auth())
            else:
                c.tls = self.tls(v, (*path, "tls"), c.tls or TLS())

        if self.struct(n, "registries.RegistryConfig", path, field_):
            self.reg.configs[key] = c

    def auth(self, n: Node, path: tuple[Any, ...], a: Auth) -> Auth:
        def field_(name: str, v: Node) -> None:
            s = self.string(v)
            if s is not None:
                self.reg.lines[(*path, name)] = self.at(v)
                setattr(a, name, s)

        self.struct(n, "registries.AuthConfig", path, field_)
        return a

    def tls(self, n: Node, path: tuple[Any, ...], t: TLS) -> TLS:
        def field_(name: str, v: Node) -> None:
            self.reg.lines[(*path, name)] = self.at(v)
            value = self.boolean(v) if name == "insecure_skip_verify" else self.string(v)
            if value is not None:
                setattr(t, name, value)

        self.struct(n, "registries.TLSConfig", path, field_)
        return t


def parse_registries(text: Any) -> Registries:
    """Decode registries.yaml text; raise RegistriesParseError where K3s refuses the file."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise RegistriesParseError("yaml: invalid leading UTF-8 octet") from None
    if not isinstance(text, str):
        raise RegistriesParseError(f"registries.yaml must be text, not {type(text).__name__}")
    if len(text) > MAX_FILE_BYTES:
        raise RegistriesTooLarge(f"the file is {len(text) // 1024} KiB; regui reads files of at most "
                                 f"{size_text(MAX_FILE_BYTES)}")
    reg = Registries()
    try:
        loader = Loader(text)
        try:
            # yaml.v2 Unmarshal decodes only the first document of a stream.
            root = loader.get_node() if loader.check_node() else None
        finally:
            loader.dispose()
        if root is not None:
            decoder = _Decoder(reg, Budget(loader.uses), loader)
            decoder.registry(root)
            if decoder.terrors:
                raise RegistriesParseError("yaml: unmarshal errors:\n  " + "\n  ".join(m for _, m, _ in decoder.terrors),
                                           decoder.terrors[0][0],
                                           "yaml: unmarshal errors:\n  " + "\n  ".join(u for _, _, u in decoder.terrors))
            check_counts(reg)
    except RegistriesParseError:
        raise
    except _Fatal as e:
        raise RegistriesParseError(e.message, e.line, e.unquoted) from None
    except yaml.YAMLError as e:
        message, line = yaml_error(e, text)
        # An alias names its anchor, which can be any word of the file (its password too).
        unquoted = re.sub(r"unknown anchor .* referenced", "unknown anchor referenced", message, flags=re.S)
        raise RegistriesParseError(message, line, unquoted) from None
    except RecursionError:
        raise RegistriesParseError("yaml: exceeded max depth") from None
    except Exception as e:  # PyYAML oddities must surface as "refused", never as a crash
        raise RegistriesParseError(f"yaml: {e}", None, "yaml: the file cannot be read") from None
    return reg
