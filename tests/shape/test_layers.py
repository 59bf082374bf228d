"""The shape of regui's code: no module imports another that (directly or not) imports it back, and
nothing below a view imports upward. Read from the source, function-level imports included."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.shape.sources import PACKAGE, import_base, module_name

# Bottom up; a module may import its own package and any package on a lower layer.
LAYERS = {"k3s": 0, "remote": 0, "core": 1, "audit": 2, "registries": 3, "inventory": 4, "pushes": 5, "nodechecks": 6, "probes": 6}
TOP = 9  # views, URLs, management commands, settings, the Celery app: they wire the rest together


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


def imported(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The regui modules `name` imports anywhere in its file (not under `if TYPE_CHECKING`)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = import_base(node, package)
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith("regui"):
                yield target


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: set(imported(name, path, set(found))) for name, path in found.items()}


def layer(name: str) -> int:
    parts = name.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        return TOP  # regui, regui.settings, regui.urls, regui.celery, regui.wsgi
    if LAYERS[parts[1]] > 0 and (parts[2:3] in (["views"], ["urls"]) or "management" in parts):
        return TOP  # (k3s/urls.py is Go's URL parsing, not Django's)
    return LAYERS[parts[1]]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_module_of_regui_is_part_of_an_import_cycle():
    assert cycles(graph()) == []


def test_nothing_below_a_view_imports_upward():
    upward = [f"{src} -> {dst}" for src, targets in graph().items() for dst in sorted(targets)
              if layer(src) < TOP and (layer(dst) > layer(src)
                                       or (layer(dst) == layer(src) and dst.split(".")[1] != src.split(".")[1]))]
    assert upward == []


def test_the_pure_layers_know_nothing_of_django():
    for name, path in modules().items():
        if layer(name) == 0:
            tree = ast.parse(path.read_text())
            roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            roots |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
            assert not roots & {"django", "celery", "django_htmx"}, name


def test_the_checks_find_a_planted_cycle_and_an_upward_import():
    # The walker is what the two tests above rely on: it must see what it is meant to see.
    assert cycles({"regui.a": {"regui.b"}, "regui.b": {"regui.c"}, "regui.c": {"regui.a"}}) == [
        ["regui.a", "regui.b", "regui.c"]]
    assert layer("regui.core.crypto") < layer("regui.pushes.services") < layer("regui.pushes.views")
    edges = graph()
    assert "regui.registries.models" in edges["regui.registries.services"]
    assert "regui.remote.ssh" in edges["regui.pushes.nodepush"]


def test_every_package_of_regui_has_a_place_in_the_layers():
    # A new app must say where it sits, or the upward-import check would wave it through as a view.
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages - set(LAYERS) == set()
