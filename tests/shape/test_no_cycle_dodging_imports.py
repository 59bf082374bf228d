"""No module of regui imports another module of regui inside a function. Such an import hides a
dependency from whoever reads the top of the file, and is the usual way to dodge an import cycle,
which is to be fixed by moving code instead (tests/shape/test_layers.py finds cycles, with these
imports counted). The few that must stay are listed below, each with its reason."""

from __future__ import annotations

import ast

from tests.shape.sources import PACKAGE, ROOT, import_base, module_name

# Django connects an app's signal receivers in AppConfig.ready(), which runs once every app's models
# are loaded; apps.py itself is imported before any models, so a receivers module (whose imports reach
# models) imported at its top would fail with AppRegistryNotReady. Django's own documentation says to
# import them in ready().
_READY = "imported in AppConfig.ready(): its receivers and checks need every app's models loaded"
ALLOWED: dict[tuple[str, str], str] = {
    ("regui/audit/apps.py", "regui.audit.signals"): _READY,
    ("regui/core/apps.py", "regui.core.checks"): _READY,
    ("regui/core/apps.py", "regui.core.heartbeat"): _READY,
    ("regui/nodechecks/apps.py", "regui.nodechecks.signals"): _READY,
    ("regui/pushes/apps.py", "regui.pushes.signals"): _READY,
}


def known_modules() -> set[str]:
    return {module_name(p) for p in PACKAGE.rglob("*.py")}


def function_level_imports(source: str, module: str, *, is_package: bool, known: set[str]) -> set[tuple[int, str]]:
    """(line, regui module) of each import of a regui module inside a function of `source`."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[tuple[int, str]] = set()  # a set: a nested function is walked with its outer one too
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = import_base(node, package)
                # `from regui.core import sealing` imports the module regui.core.sealing.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            else:
                continue
            found |= {(node.lineno, t) for t in targets if t == "regui" or t.startswith("regui.")}
    return found


def imports_in_functions() -> dict[tuple[str, str], list[int]]:
    """(file, module) -> the lines where the file imports the regui module inside a function."""
    known = known_modules()
    found: dict[tuple[str, str], list[int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = function_level_imports(path.read_text(), module_name(path), is_package=path.name == "__init__.py",
                                       known=known)
        for line, target in sorted(lines):
            found.setdefault((path.relative_to(ROOT).as_posix(), target), []).append(line)
    return found


def test_no_module_of_regui_imports_a_module_of_regui_inside_a_function():
    found = imports_in_functions()
    unexpected = [f"{path}:{lines[0]} imports {target}" for (path, target), lines in found.items()
                  if (path, target) not in ALLOWED]
    assert unexpected == []


def test_every_allowed_import_inside_a_function_is_still_there():
    # An entry whose import went away would allow the next one of that name without anyone deciding so.
    assert sorted(set(ALLOWED) - set(imports_in_functions())) == []


def test_the_check_finds_a_planted_import_inside_a_function_and_nothing_else():
    # The walker is what the test above relies on: it must see what it is meant to see.
    source = '''
from typing import TYPE_CHECKING
from regui.inventory.models import Node
from . import trust
if TYPE_CHECKING:
    from regui.inventory.credentials.models import SharedCredential

def route(node):
    import json
    from regui.inventory.jumphosts.routing import jump_for
    import regui.remote.ssh

class Form:
    def clean(self):
        from .services import node_target
        def inner():
            from . import trust
        from ..core import sealing
'''
    known = {"regui.inventory.trust", "regui.inventory.services", "regui.core.sealing", "regui.core"}
    found = function_level_imports(source, "regui.inventory.forms", is_package=False, known=known)
    assert found == {(10, "regui.inventory.jumphosts.routing"), (11, "regui.remote.ssh"),
                     (15, "regui.inventory.services"), (17, "regui.inventory.trust"), (18, "regui.core.sealing")}
