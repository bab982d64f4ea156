"""The layout's rules, read from the source with ``ast``: imports only go down the layers, and no module
imports itself back through a circle of others (at module level or inside a function)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first: a package may import its own modules and those of the packages before it, never after.
LAYERS = ("pipeline", "review", "flows", "web", "cli")


def package_modules() -> dict[str, Path]:
    modules = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules that ``name`` imports anywhere in its source, TYPE_CHECKING blocks included."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import module`` imports the module; ``from module import name`` the module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    modules = package_modules()
    known = set(modules)
    return {name: imports_of(path, name, known) for name, path in modules.items()}


def layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_every_layer_is_a_package_with_modules():
    modules = package_modules()
    for package in LAYERS:
        assert package in modules, f"{package}/ has no __init__.py"
        assert sum(m.startswith(package + ".") for m in modules) >= 2


def test_imports_only_go_down_the_layers():
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if layer(target) > layer(module)
    )
    assert upward == []


def test_no_import_cycle():
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from review.store import Store", {"review.store"}),
        ("import pipeline.clean", {"pipeline.clean"}),
        ("from pipeline import clean", {"pipeline.clean"}),
        ("from . import store", {"review.store"}),
        ("def f():\n    from web.app import create_app", {"web.app"}),
    ],
)
def test_the_walker_sees_every_kind_of_import(tmp_path, source, expected):
    path = tmp_path / "mod.py"
    path.write_text(source)
    known = {"review.store", "review.mod", "pipeline", "pipeline.clean", "web", "web.app", "review"}
    assert imports_of(path, "review.mod", known) == expected
