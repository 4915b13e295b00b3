"""Layer boundaries: the pure libraries (models, metrics, analysis) never reach the service, and no
project module imports itself back through a chain of imports.

Two views of the same rule: importing every pure module in a fresh interpreter must not load the
service stack, and an AST walk over every project file (imports inside functions included) finds
no forbidden import and no import cycle between project modules.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ("models", "metrics", "analysis")
PROJECT_PACKAGES = ("app", "engine", "workers", *PURE_PACKAGES)
FORBIDDEN_IN_PURE = ("app", "workers", "fastapi", "sqlalchemy", "celery")

_IMPORT_EVERY_MODULE = r"""
import importlib, json, pkgutil, sys
forbidden, packages = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def loaded():
    return {m.split(".")[0] for m in sys.modules} & set(forbidden)
problems = []
for package in packages:
    names = [package] + [info.name for info in pkgutil.walk_packages(importlib.import_module(package).__path__,
                                                                     package + ".")]
    for name in names:
        before = loaded()
        try:
            importlib.import_module(name)
        except Exception as exc:
            problems.append(f"{name}: cannot be imported ({type(exc).__name__}: {exc})")
            continue
        new = sorted(loaded() - before)
        if new:
            problems.append(f"{name} loads {', '.join(new)}")
print(json.dumps(problems))
"""


def _modules() -> dict[str, Path]:
    """Every project module by dotted name (``pkg/__init__.py`` is ``pkg``)."""
    out = {}
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported dotted name, line) for every import statement in the file, at any depth. ``from
    pkg import x`` yields ``pkg.x``: the submodule ``pkg.x`` when there is one, else ``pkg`` itself
    (see ``_resolve``)."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            out += [(base if alias.name == "*" else f"{base}.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.Call):
            out += [(module, node.lineno) for module in _imported_by_name(node)]
    return out


def _imported_by_name(call: ast.Call) -> list[str]:
    """Modules a call imports by a literal name: ``importlib.import_module("x")`` and Celery's
    ``include=["x", ...]`` (the worker imports those modules when it starts)."""
    func = call.func
    callee = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    names = []
    if callee == "import_module" and call.args:
        names.append(call.args[0])
    for keyword in call.keywords:
        if keyword.arg == "include" and isinstance(keyword.value, (ast.List, ast.Tuple)):
            names += keyword.value.elts
    return [n.value for n in names if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _resolve(imported: str, modules: dict[str, Path]) -> str | None:
    """The project module an import loads last: the longest dotted prefix that is a project module."""
    parts = imported.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for imported, _ in _imports(name, path):
            target = _resolve(imported, modules)
            if target is not None and target != name:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a -> ... -> a) per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            connect(v)
    cycles = []
    for component in components:
        start = min(component)
        # Breadth-first search back to ``start`` inside the component gives a shortest cycle.
        previous: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in previous:
            following = []
            for v in frontier:
                for w in sorted(graph[v] & component):
                    if w not in previous:
                        previous[w] = v
                        following.append(w)
            frontier = following
        path = [start]
        while True:
            path.append(previous[path[-1]])
            if path[-1] == start:
                break
        cycles.append(path[::-1])
    return cycles


def test_importing_any_pure_module_loads_no_service_code():
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_EVERY_MODULE, json.dumps(FORBIDDEN_IN_PURE), json.dumps(PURE_PACKAGES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    problems = json.loads(result.stdout.strip().splitlines()[-1])
    assert not problems, "\n".join(problems)


def test_pure_libraries_never_import_the_service_stack_even_inside_functions():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: import {imported}"
        for name, path in _modules().items()
        if name.split(".")[0] in PURE_PACKAGES
        for imported, line in _imports(name, path)
        if imported.split(".")[0] in FORBIDDEN_IN_PURE
    ]
    assert not offenders, "\n".join(sorted(set(offenders)))


def test_project_modules_import_each_other_without_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (one shortest cycle per group of modules that import each other):\n" + "\n".join(
        " -> ".join(cycle) for cycle in cycles
    )


# The web side (routes, pages, services, the app factory) writes jobs and reads results; the engine runs them. It
# reaches the engine only through the contract (types, task names, cost estimates) and the producer that sends
# task messages; the runner, task state machine, scheduling, sweep and embedded broker are the engine's own.
WEB_SIDE = ("app.api", "app.services", "app.main", "app.db")
ENGINE_FRONT = ("engine.contract", "engine.queue")


def test_the_web_side_reaches_the_engine_only_through_its_contract():
    modules = _modules()
    offenders = sorted(
        {
            f"{path.relative_to(ROOT)}:{line}: import {imported}"
            for name, path in modules.items()
            if name.startswith(WEB_SIDE)
            for imported, line in _imports(name, path)
            if (target := _resolve(imported, modules))
            and target.split(".")[0] == "engine"
            and target not in ENGINE_FRONT
        }
    )
    assert not offenders, "\n".join(offenders)
    assert any(name.startswith("engine.") for name in modules)  # the engine is seen at all


def test_the_cycle_finder_sees_a_cycle_inside_functions_too(tmp_path):
    """The checks above cannot pass by seeing nothing: a planted cycle and a planted import are found."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    path = tmp_path / "planted.py"
    path.write_text(
        "def f():\n    from ..services import queue\n    import sqlalchemy.orm\n"
        "app = Celery('x', include=['workers.tasks'])\n"
    )
    imported = {i for i, _ in _imports("app.api.planted", path)}
    assert {"app.services.queue", "sqlalchemy.orm", "workers.tasks"} <= imported
    assert _resolve("engine.queue.enqueue", _modules()) == "engine.queue"


# Services speak in domain errors (``app.services.errors``); ``app/api/errors.py`` alone turns them into statuses.
HTTP_PACKAGES = ("fastapi", "starlette")


def _http_in_services(name: str, path: Path) -> list[str]:
    """``path``'s imports of the web framework and every ``status_code`` name, attribute or keyword in it."""
    found = [
        f"{line}: import {imported}"
        for imported, line in _imports(name, path)
        if imported.split(".")[0] in HTTP_PACKAGES
    ]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        named = (
            node.id
            if isinstance(node, ast.Name)
            else node.attr
            if isinstance(node, ast.Attribute)
            else node.arg
            if isinstance(node, ast.keyword)
            else None
        )
        if named == "status_code":
            found.append(f"{getattr(node, 'lineno', '?')}: status_code")
    return found


def test_services_know_no_http_status(tmp_path):
    offenders = [
        f"{path.relative_to(ROOT)}:{problem}"
        for name, path in _modules().items()
        if name.startswith("app.services")
        for problem in _http_in_services(name, path)
    ]
    assert not offenders, "\n".join(offenders)
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from starlette import status\nclass Gone(Exception):\n    status_code = 410\nraise E(status_code=1)\n"
    )
    assert len(_http_in_services("app.services.planted", planted)) == 3
