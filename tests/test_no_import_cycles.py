"""No import cycles between the project's modules (schemas, corpus, jobs, tokenizer, pretrain, eval, benchmarks).

The graph is read from the source with `ast`, not by importing it: every `import` / `from ... import`
statement counts, at module level or inside a function or an `if` (a function-local import does not hide
a cycle). Relative imports are resolved; `from pkg import name` is an edge to `pkg.name` when that is a
module, else to `pkg`. An edge goes only to the module named, not to the packages above it whose
`__init__` Python runs first, so a package `__init__` re-exporting its own submodules is not a cycle;
a submodule that imports its parent package (`from pkg import name` for a name `pkg/__init__` defines or
re-exports) is an edge back to the parent and counts when it closes a cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "corpus", "jobs", "tokenizer", "pretrain", "eval", "benchmarks")


@dataclass(frozen=True)
class Edge:
    """`source` imports `target` at `path:line`."""

    source: str
    target: str
    path: Path
    line: int


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the project's packages (`pkg/__init__.py` is `pkg`)."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _package_of(module: str, path: Path) -> str:
    """The package a relative import in `module` starts from: itself for an `__init__`, else its parent."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _resolve_from(node: ast.ImportFrom, module: str, path: Path) -> str:
    if not node.level:
        return node.module or ""
    base = _package_of(module, path).split(".")
    if node.level - 1 > len(base) - 1:
        raise ValueError(f"{path}:{node.lineno}: relative import goes above the top-level package")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of dotted `name` that is a project module (None for third-party and stdlib)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return None


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of the statements inside `if TYPE_CHECKING:` blocks: annotations only, never run."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            for stmt in node.body:
                skip.update(id(n) for n in ast.walk(stmt))
    return skip


def import_edges(modules: dict[str, Path]) -> list[Edge]:
    """Every import of one project module by another, from all import statements of each file that run
    (module level or inside functions; `if TYPE_CHECKING:` blocks, which only feed annotations, excepted)."""
    edges: list[Edge] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        skip = _type_checking_only(tree)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [_known(alias.name, modules) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve_from(node, module, path)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if alias.name != "*" and sub in modules else _known(base, modules))
            for target in targets:
                if target is not None and target != module:
                    edges.append(Edge(module, target, path, node.lineno))
    return edges


def strongly_connected(nodes: list[str], succ: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each sorted; only those with two or more nodes."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(succ.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            child = next(it, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def shortest_cycle(component: list[str], succ: dict[str, list[str]]) -> list[str]:
    """A shortest cycle through the component's first module, as [m0, m1, ..., m0] (breadth-first)."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in succ.get(node, ()):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if len(path) > 1 else [start, start]
                if child in members and child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{component} is not strongly connected")


def describe_cycles(root: Path = ROOT) -> list[str]:
    """One paragraph per import cycle: its modules and a shortest cycle with the import lines that make it."""
    modules = project_modules(root)
    edges = import_edges(modules)
    succ: dict[str, list[str]] = {}
    where: dict[tuple[str, str], Edge] = {}
    for e in edges:
        if (e.source, e.target) not in where:
            where[(e.source, e.target)] = e
            succ.setdefault(e.source, []).append(e.target)
    out = []
    for component in strongly_connected(sorted(modules), succ):
        cycle = shortest_cycle(component, succ)
        steps = [
            f"    {a} -> {b}  ({where[(a, b)].path.relative_to(root)}:{where[(a, b)].line})"
            for a, b in zip(cycle, cycle[1:], strict=False)
        ]
        out.append(f"{len(component)} modules: {', '.join(component)}\n  for example:\n" + "\n".join(steps))
    return out


# ----------------------------------------------------------------------------- the checker itself


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_checker_finds_function_level_and_parent_package_cycles(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "corpus/__init__.py": "",
            # function-local import closing a cycle: counted
            "corpus/a.py": "def f():\n    from corpus.b import g\n",
            "corpus/b.py": "from . import a\n",
            # a package __init__ re-exporting its submodules, which import each other one way: fine
            "corpus/p/__init__.py": "from corpus.p.x import X\nfrom .y import Y\n",
            "corpus/p/x.py": "from corpus.p.y import Y\nX = Y\n",
            "corpus/p/y.py": "import numpy\nY = 1\n",
            # a submodule importing a name from its parent package: a cycle through the __init__
            "corpus/q/__init__.py": "from corpus.q.m import M\nN = 1\n",
            "corpus/q/m.py": "from corpus.q import N\nM = N\n",
            "jobs/__init__.py": "",
            "jobs/z.py": "from corpus.p import X\nimport corpus.p.y\n",
            # an import for annotations only (`if TYPE_CHECKING:`) never runs: not a cycle
            "jobs/s.py": "from typing import TYPE_CHECKING\nimport jobs.t\nif TYPE_CHECKING:\n    from jobs.t import T\n",
            "jobs/t.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from jobs.s import S\nT = 1\n",
        },
    )
    cycles = describe_cycles(tmp_path)
    assert len(cycles) == 2, cycles
    assert cycles[0].startswith("2 modules: corpus.a, corpus.b")
    assert "corpus.a -> corpus.b  (corpus/a.py:2)" in cycles[0]
    assert "corpus.b -> corpus.a  (corpus/b.py:1)" in cycles[0]
    assert cycles[1].startswith("2 modules: corpus.q, corpus.q.m")


def test_no_import_cycles() -> None:
    cycles = describe_cycles()
    assert not cycles, f"{len(cycles)} import cycle(s):\n" + "\n".join(cycles)
