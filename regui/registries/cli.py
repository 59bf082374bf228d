"""Shared by the engine commands: where the registries.yaml text comes from, and JSON output."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from .models import Cluster
from .selectors import cluster_render, nodes_engine_flags


def add_source_arguments(parser: CommandParser) -> None:
    parser.add_argument("file", nargs="?", help="a registries.yaml file, or - for standard input")
    parser.add_argument("--cluster", help="use this cluster's rendered file (secrets redacted) instead of FILE")
    parser.add_argument("--program", choices=["k3s", "rke2"], help="default: the cluster's distro, else k3s")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def load_source(options: dict[str, Any]) -> tuple[str, str]:
    """(yaml text, program) from FILE or --cluster; never reveals secret values."""
    file, name = options.get("file") or "", options.get("cluster") or ""
    if bool(file) == bool(name):
        raise CommandError("give either FILE or --cluster NAME")
    if name:
        cluster = Cluster.objects.filter(name=name).first()
        if cluster is None:
            raise CommandError(f"no cluster named {name!r}")
        return cluster_render(cluster), options.get("program") or cluster.distro
    return source_read(file), options.get("program") or "k3s"


def source_flags(options: dict[str, Any]) -> list[dict[str, bool]] | None:
    """The engine options the nodes of --cluster run with (nodes_engine_flags); None for FILE: unknown."""
    name = options.get("cluster") or ""
    cluster = Cluster.objects.filter(name=name).first() if name else None
    return nodes_engine_flags(cluster) if cluster is not None else None


def source_read(file: str) -> str:
    """The text of FILE, or of standard input for -; a file that cannot be read is the command's error."""
    try:
        return sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {file}: {exc}") from None


def to_json(value: Any) -> str:
    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    return json.dumps(plain(value), indent=2, ensure_ascii=False)
