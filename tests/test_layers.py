"""Imports in mla/ point one way: down the layers below, never up, and never round a circle.

Every ``import`` counts, a function's local ones included. README's "Layout" draws the same
order; change both together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import mla

ROOT = Path(mla.__file__).parent

# Top to bottom. A module belongs to the layer of the longest prefix that names it; the
# ``mla.<feature>.models`` modules form their own layer below every feature's code, since a
# feature's records refer to others' rows (an event to its request, a deadline to its
# authority) while the code that changes them stays above (see MODELS).
LAYERS: list[tuple[str, ...]] = [
    # adapters
    ("mla.cli",),
    ("mla", "mla.worker", "mla.server", "mla.demo", "mla.migrate"),
    ("mla.web", "mla.api"),
    ("mla.app_services", "mla.model_registry"),
    # features, each over the ones below it
    ("mla.assets", "mla.documents", "mla.statistics"),
    ("mla.evidence",),
    ("mla.requests",),
    # the statistics' stage runs, written with every move of a request
    ("mla.statistics.runs",),
    ("mla.assets.moves",),
    ("mla.notify",),
    ("mla.deadlines",),
    ("mla.audit",),
    ("mla.workflow",),
    ("mla.authorities",),
    # every feature's models
    ("MODELS",),
    # core
    ("mla.keyring",),
    ("mla.durability", "mla.db", "mla.config"),
    ("mla.errors",),
]


def module_name(path: Path) -> str:
    parts = ["mla", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every mla module ``name`` imports, with the line, local imports included; ``from
    package import module`` names the module."""
    known = modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            if target == "mla" or target.startswith("mla."):
                yield target, node.lineno


def layer_of(name: str) -> int:
    if name.endswith(".models"):
        return LAYERS.index(("MODELS",))
    best, found = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found >= 0, f"{name} is in no layer: add it to LAYERS (and README's Layout)"
    return found


def unit_of(name: str) -> str:
    """The package a module counts under when looking for circles: its top-level package, or
    the models layer."""
    if layer_of(name) == LAYERS.index(("MODELS",)):
        return "MODELS"
    prefixes = LAYERS[layer_of(name)]
    return max((p for p in prefixes if name == p or name.startswith(p + ".")), key=len)


def graph() -> dict[str, set[tuple[str, int]]]:
    return {name: set(imports(name, path)) for name, path in modules().items()}


def test_imports_point_down() -> None:
    wrong = []
    for name, targets in graph().items():
        for target, line in sorted(targets):
            here, there = layer_of(name), layer_of(target)
            sideways = here == there and unit_of(name) != unit_of(target)
            if there < here or sideways:
                wrong.append(f"{name}:{line} imports {target}")
    assert wrong == []


def _circle(edges: dict[str, set[str]]) -> list[str] | None:
    """A circle in ``edges``, as the path round it, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_circle_between_modules() -> None:
    edges = {n: {t for t, _ in ts if t != n} for n, ts in graph().items()}
    assert _circle(edges) is None


def test_no_circle_between_packages() -> None:
    edges: dict[str, set[str]] = {}
    for name, targets in graph().items():
        for target, _ in targets:
            if unit_of(name) != unit_of(target):
                edges.setdefault(unit_of(name), set()).add(unit_of(target))
    assert _circle(edges) is None


def test_the_check_sees_imports() -> None:
    # A walk that found nothing would pass everything.
    found = graph()
    assert ("mla.evidence.service", 0) not in found["mla.evidence.service"]
    assert any(t == "mla.requests.service" for t, _ in found["mla.evidence.service"])
    assert any(t == "mla.web" for t, _ in found["mla"])  # a local import in create_app


# What may read the Flask application: the adapters, the edge that builds services from the
# app's settings (mla.app_services), and the Flask extension that binds a session to the app
# context (mla.db's get_session). Services below get their settings passed in.
READS_THE_APP = LAYERS.index(("mla.app_services", "mla.model_registry"))
FLASK_BINDING = {"mla.db"}
_APP_GLOBALS = {"current_app", "has_app_context"}


def app_globals(path: Path) -> Iterator[tuple[str, int]]:
    """Every use of ``flask.current_app`` or ``flask.has_app_context`` in ``path``: imported
    by name or reached as an attribute of ``flask``."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "flask":
            yield from ((a.name, node.lineno) for a in node.names if a.name in _APP_GLOBALS)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in _APP_GLOBALS
            and isinstance(node.value, ast.Name)
            and node.value.id == "flask"
        ):
            yield node.attr, node.lineno


def test_services_do_not_read_the_app() -> None:
    wrong = [
        f"{name}:{line} uses flask.{used}"
        for name, path in modules().items()
        if layer_of(name) > READS_THE_APP and name not in FLASK_BINDING
        for used, line in app_globals(path)
    ]
    assert wrong == []


def test_the_app_check_sees_uses() -> None:
    found = {name for name, path in modules().items() if any(app_globals(path))}
    assert {"mla.app_services", "mla.db"} <= found
