"""The architecture picture in README and CONVENTIONS, held against the code.

Every import in the four packages is read with `ast` (including imports inside functions, which
are how cycles hide) and checked against the floors:

    monitor.cli  →  monitor.app  →  alerts  →  classifiers, collectors  →  monitor.store  →  monitor.core

An arrow may point down any number of floors, never up. Between modules, imports outside
`if TYPE_CHECKING:` blocks must form no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("monitor", "collectors", "classifiers", "alerts")

# Lower number = lower floor. A module may import its own floor or any floor below.
FLOORS: dict[str, int] = {
    "monitor.core": 0,
    "monitor.store": 1,
    "classifiers": 2,
    "collectors": 2,
    "alerts": 3,
    "monitor.app": 4,
    "monitor.cli": 5,
    "monitor.__main__": 6,
}
# Services on the same floor do not import each other.
SIDEWAYS_FORBIDDEN = {("classifiers", "collectors"), ("collectors", "classifiers")}


def floor_of(module: str) -> str | None:
    if module == "monitor":  # the package root holds only the version
        return "monitor.core"
    best = None
    for prefix in FLOORS:
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
            best = prefix
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, only for type checking) for every import of our packages."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]

    def walk(node: ast.AST, typing_only: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.body:
                    yield from walk_one(sub, True)
                for sub in child.orelse:
                    yield from walk_one(sub, typing_only)
                continue
            yield from walk_one(child, typing_only)

    def walk_one(node: ast.AST, typing_only: bool) -> Iterator[tuple[str, int, bool]]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, typing_only
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                # `from pkg import submodule` imports the submodule
                candidate = f"{base}.{alias.name}"
                yield (candidate if (ROOT / candidate.replace(".", "/")).with_suffix(".py").exists()
                       or (ROOT / candidate.replace(".", "/")).is_dir() else base), node.lineno, typing_only
        else:
            yield from walk(node, typing_only)

    yield from walk(tree, False)


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
                  if "__pycache__" not in p.parts)


def ours(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def test_every_module_sits_on_a_floor():
    homeless = [module_name(p) for p in sources() if floor_of(module_name(p)) is None
                and module_name(p) != "monitor"]
    assert homeless == []


def test_no_import_points_up_or_sideways():
    violations = []
    for path in sources():
        me = module_name(path)
        mine = floor_of(me)
        if mine is None:
            continue
        for target, line, _typing in imports(path):
            if not ours(target):
                continue
            theirs = floor_of(target)
            if theirs is None:
                violations.append(f"{path.relative_to(ROOT)}:{line} imports {target} (on no floor)")
            elif FLOORS[theirs] > FLOORS[mine] or (mine.split(".")[0], theirs.split(".")[0]) in SIDEWAYS_FORBIDDEN:
                violations.append(f"{path.relative_to(ROOT)}:{line} {mine} imports {target} ({theirs})")
    assert violations == []


def test_no_import_cycle_between_modules():
    graph: dict[str, set[str]] = {}
    known = {module_name(p) for p in sources()}
    for path in sources():
        me = module_name(path)
        targets = set()
        for target, _line, typing_only in imports(path):
            if typing_only or not ours(target):
                continue
            # resolve to the longest known module
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != me and not me.startswith(target + "."):
                targets.add(target)
        graph[me] = targets

    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert [" → ".join(c) for c in cycles] == []


def test_only_the_entry_point_imports_the_cli():
    offenders = [f"{p.relative_to(ROOT)}:{line}" for p in sources()
                 if floor_of(module_name(p)) not in ("monitor.cli", "monitor.__main__")
                 for target, line, _ in imports(p) if target == "monitor.cli" or target.startswith("monitor.cli.")]
    assert offenders == []


def test_the_checker_catches_an_upward_import(tmp_path):
    # the rule itself: a ground module importing an alert channel would be flagged
    assert FLOORS[floor_of("alerts.slack")] > FLOORS[floor_of("monitor.core.config")]
    assert floor_of("monitor.store.audience") == "monitor.store"
    assert floor_of("monitor.cli.setup") == "monitor.cli"
    assert floor_of("monitor.app.pipeline") == "monitor.app"
