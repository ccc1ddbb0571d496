"""No import cycle among the project's modules (functions, sandbox, remedy, infra, app.py).

Every import counts: at module level, inside functions (a deferred import is still a dependency, it only runs
later) and under `if TYPE_CHECKING:`. An edge goes to the module named (`from a.b import c` is a.b.c when c is a
module, else a.b); the parent packages a submodule import runs are not edges of their own. A cycle fails the test
with its modules in order, each importing the next: break it by making the lower module stop importing the upper
one (move what both need below them, or pass it in)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("functions", "sandbox", "remedy", "infra")


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    found = {"app": root / "app.py"}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports anywhere in its source."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package, up level - 1
                base = package[:len(package) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    found.add(f"{source}.{alias.name}")
                elif source in modules:
                    found.add(source)
    found.discard(name)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    frontier = [start]
    while frontier:
        node = frontier.pop()
        for successor in graph[node] - seen:
            seen.add(successor)
            frontier.append(successor)
    return seen


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per group of modules that import each other (directly or not), in import order."""
    reach = {node: _reachable(graph, node) for node in graph}
    groups: list[set[str]] = []
    for node in sorted(graph):
        if node in reach[node] and not any(node in group for group in groups):
            groups.append({other for other in reach[node] if node in reach[other]})
    return [_one_cycle(graph, group) for group in groups]


def _one_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth first, inside the component)."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for successor in sorted(graph[node] & component):
                if successor == start:
                    return paths[node] + [start]
                if successor not in paths:
                    paths[successor] = paths[node] + [successor]
                    following.append(successor)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {sorted(component)}")


def test_the_project_has_no_import_cycle() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert len(graph) > 150 and "functions.core.runtime" in graph and "app" in graph
    assert found == [], "import cycles (each module imports the next):\n" + "\n".join(
        "  " + " -> ".join(cycle) for cycle in found)


def test_a_cycle_is_found_and_named_even_through_a_deferred_import(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("")
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "functions" / "low.py").write_text("def f():\n    from functions import high\n")
    (tmp_path / "functions" / "high.py").write_text("from functions.low import f\n")
    (tmp_path / "sandbox" / "a.py").write_text("from . import b\n")
    (tmp_path / "sandbox" / "b.py").write_text("import sandbox.a\n")
    (tmp_path / "remedy" / "fine.py").write_text("from functions.low import f\nimport json\n")

    assert cycles(import_graph(tmp_path)) == [["functions.high", "functions.low", "functions.high"],
                                              ["sandbox.a", "sandbox.b", "sandbox.a"]]
