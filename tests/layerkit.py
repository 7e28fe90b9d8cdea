"""The import checker behind tests/test_layers.py: reads a source tree with `ast`, never imports it.

Every function takes the tree's root, so the tests can also run it on a small planted tree and
prove that each check fails where it should.
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

# The "module:attribute" registries, and the package each one's modules must live in.
REGISTRIES: dict[tuple[str, str], str] = {
    ("monitor/core/names.py", "SOURCES"): "collectors",
    ("monitor/core/names.py", "CHANNEL_TYPES"): "alerts.channels",
    ("monitor/cli/__init__.py", "COMMANDS"): "monitor.cli",
}

Import = tuple[str, int, bool]  # (imported module, line, only for type checking)


def floor_of(module: str) -> str | None:
    if module == "monitor":  # the package root holds only the version
        return "monitor.core"
    best = None
    for prefix in FLOORS:
        if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best)):
            best = prefix
    return best


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str, root: Path = ROOT) -> bool:
    """Whether ``name`` is one of the tree's modules or packages."""
    base = root / name.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def ours(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ['a', 'b', 'c']; None for anything but names and attributes."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]


def _dynamic(call: ast.Call) -> str | None:
    """The module named by ``importlib.import_module("…")`` or ``__import__("…")``, when it is a literal."""
    func = _dotted(call.func)
    if func not in (["importlib", "import_module"], ["import_module"], ["__import__"]):
        return None
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        name = call.args[0].value
        return None if name.startswith(".") else name
    return None


def imports(path: Path, root: Path = ROOT) -> Iterator[Import]:
    """Every import in one file: statements (also inside functions), literal dynamic imports, and
    ``import pkg`` followed by ``pkg.sub.name``, which imports ``pkg.sub`` as surely."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    # names bound by `import a.b` (a) and `import a.b as c` (c), to follow attribute chains from
    bound = {(alias.asname or alias.name.split(".")[0]): (alias.name if alias.asname else alias.name.split(".")[0])
             for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}

    def walk(node: ast.AST, typing_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.body:
                    yield from walk_one(sub, True)
                for sub in child.orelse:
                    yield from walk_one(sub, typing_only)
                continue
            yield from walk_one(child, typing_only)

    def walk_one(node: ast.AST, typing_only: bool) -> Iterator[Import]:
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
                yield (candidate if is_module(candidate, root) else base), node.lineno, typing_only
        elif isinstance(node, ast.Attribute) and (chain := _dotted(node)) and chain[0] in bound:
            parts = [*bound[chain[0]].split("."), *chain[1:]]
            for end in range(len(parts), 0, -1):
                if is_module(".".join(parts[:end]), root):
                    yield ".".join(parts[:end]), node.lineno, typing_only
                    break
        else:
            if isinstance(node, ast.Call) and (name := _dynamic(node)):
                yield name, node.lineno, typing_only
            yield from walk(node, typing_only)

    yield from walk(tree, False)


def sources(root: Path = ROOT) -> list[Path]:
    return sorted(p for pkg in PACKAGES if (root / pkg).is_dir() for p in (root / pkg).rglob("*.py")
                  if "__pycache__" not in p.parts)


def homeless(root: Path = ROOT) -> list[str]:
    return [module_name(p, root) for p in sources(root) if floor_of(module_name(p, root)) is None
            and module_name(p, root) != "monitor"]


def upward_imports(root: Path = ROOT) -> list[str]:
    """Imports that point up a floor, sideways between services, or at a module on no floor."""
    violations = []
    for path in sources(root):
        mine = floor_of(module_name(path, root))
        if mine is None:
            continue
        for target, line, _typing in imports(path, root):
            if not ours(target):
                continue
            theirs = floor_of(target)
            where = f"{path.relative_to(root)}:{line}"
            if theirs is None:
                violations.append(f"{where} imports {target} (on no floor)")
            elif FLOORS[theirs] > FLOORS[mine] or (mine.split(".")[0], theirs.split(".")[0]) in SIDEWAYS_FORBIDDEN:
                violations.append(f"{where} {mine} imports {target} ({theirs})")
    return violations


def cli_importers(root: Path = ROOT) -> list[str]:
    """Modules outside the CLI and the entry point that import the CLI."""
    return [f"{p.relative_to(root)}:{line}" for p in sources(root)
            if floor_of(module_name(p, root)) not in ("monitor.cli", "monitor.__main__")
            for target, line, _ in imports(p, root) if target == "monitor.cli" or target.startswith("monitor.cli.")]


def module_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the modules it imports at run time (not only for type checking). A submodule's
    import of its own package counts: the package's __init__ runs it, and may import the submodule."""
    graph: dict[str, set[str]] = {}
    for path in sources(root):
        me = module_name(path, root)
        targets = set()
        for target, _line, typing_only in imports(path, root):
            if typing_only or not ours(target):
                continue
            while target and not is_module(target, root):  # the longest module named
                target = target.rpartition(".")[0]
            if target and target != me:
                targets.add(target)
        graph[me] = targets
    return graph


def package_of(module: str, root: Path = ROOT) -> str:
    """The package a module counts in: a package directly under one of the four, with its own
    sub-packages (alerts.channels holds channels/slack/), else the top package itself; the entry
    point, a floor of its own in the package that holds only the version, is its own."""
    if module in FLOORS and not (root / module.replace(".", "/") / "__init__.py").exists():
        return module
    parts = module.split(".")
    if len(parts) >= 2 and (root / parts[0] / parts[1] / "__init__.py").exists():
        return ".".join(parts[:2])
    return parts[0]


def package_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Package → the other packages its modules import (alerts.channels → alerts.outbox, …)."""
    graph: dict[str, set[str]] = {}
    for module, targets in module_graph(root).items():
        mine = package_of(module, root)
        graph.setdefault(mine, set()).update(p for p in (package_of(t, root) for t in targets) if p != mine)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """Each cycle found by a depth-first walk, as 'a → b → a'."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return [" → ".join(c) for c in found]


def _top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def registry(path: Path, name: str) -> dict[str, str]:
    """A module-level ``NAME = {…}`` (or ``NAME: dict[…] = {…}``) dict of strings, read without importing it."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else (
            node.target if isinstance(node, ast.AnnAssign) else None)
        if isinstance(target, ast.Name) and target.id == name and node.value is not None:  # type: ignore[union-attr]
            value = ast.literal_eval(node.value)  # type: ignore[union-attr]
            assert isinstance(value, dict), f"{path}: {name} is not a dict"
            return value
    raise AssertionError(f"{path}: no {name}")


def registry_problems(root: Path = ROOT) -> list[str]:
    """Registry entries naming a module that does not exist, an attribute it does not define, or
    a module outside the package its kind belongs in."""
    problems = []
    for (file, name), home in REGISTRIES.items():
        for key, spec in registry(root / file, name).items():
            where = f"{name}[{key!r}] = {spec!r}"
            module, _, attr = spec.partition(":")
            if not module.startswith(home + ".") or not attr:
                problems.append(f"{where}: not a module:attribute inside {home}")
            elif not (root / module.replace(".", "/")).with_suffix(".py").exists():
                problems.append(f"{where}: no module {module}")
            elif attr not in _top_level_names((root / module.replace(".", "/")).with_suffix(".py")):
                problems.append(f"{where}: {module} defines no {attr}")
    return problems
