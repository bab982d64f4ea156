"""Functions stay short enough to read: none over 80 lines, and the web composition under 40.

Counted with `ast` from the `def` line to the last line of the body (decorators not counted).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "review", "flows", "web", "cli")
EXCLUDED = (ROOT / "review" / "migrations",)
MAX_LINES = 80
COMPOSITION = ("web/app.py", "create_app")
COMPOSITION_LIMIT = 40  # lines: create_app must be shorter than this


def function_lengths(path: Path, relative_to: Path) -> list[tuple[str, int, str, int]]:
    """(file, line, qualified name, length in lines) of every function and method in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = path.relative_to(relative_to).as_posix()
    found: list[tuple[str, int, str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                qualified = f"{prefix}{child.name}"
                found.append((name, child.lineno, qualified, child.end_lineno - child.lineno + 1))
                visit(child, f"{qualified}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def package_functions(root: Path = ROOT, packages=PACKAGES, excluded=EXCLUDED) -> list[tuple[str, int, str, int]]:
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if any(path.is_relative_to(folder) for folder in excluded):
                continue
            found.extend(function_lengths(path, root))
    return found


def too_long(functions, limit: int = MAX_LINES) -> list[str]:
    return [
        f"{file}:{line} {name} is {length} lines (limit {limit})" for file, line, name, length in functions if length > limit
    ]


def test_no_function_is_over_80_lines():
    offenders = too_long(package_functions())
    assert not offenders, "functions over 80 lines:\n" + "\n".join(offenders)


def test_the_web_composition_is_under_40_lines():
    file, name = COMPOSITION
    lengths = [length for f, _, n, length in package_functions(packages=("web",)) if (f, n) == (file, name)]
    assert lengths, f"{name} not found in {file}"
    assert lengths[0] < COMPOSITION_LIMIT, (
        f"{file} {name} is {lengths[0]} lines: the composition must stay under {COMPOSITION_LIMIT}"
    )


def test_the_checker_catches_an_81_line_function_and_spares_an_80_line_one(tmp_path):
    package = tmp_path / "pkg"
    (package / "migrations").mkdir(parents=True)

    def function(name: str, lines: int, indent: str = "") -> str:
        body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 2))
        return f"{indent}def {name}():\n{body}{indent}    return 0\n"

    (package / "module.py").write_text(
        function("long_one", 81)
        + function("fits", 80)
        + "class Holder:\n"
        + function("long_method", 81, indent="    ")
        + "async "
        + function("long_async", 81),
        encoding="utf-8",
    )
    (package / "migrations" / "old.py").write_text(function("ignored", 200), encoding="utf-8")

    functions = package_functions(tmp_path, ("pkg",), (package / "migrations",))
    assert {name: length for _, _, name, length in functions} == {
        "long_one": 81,
        "fits": 80,
        "Holder.long_method": 81,
        "long_async": 81,
    }
    assert too_long(functions) == [
        "pkg/module.py:1 long_one is 81 lines (limit 80)",
        "pkg/module.py:163 Holder.long_method is 81 lines (limit 80)",
        "pkg/module.py:244 long_async is 81 lines (limit 80)",
    ]
