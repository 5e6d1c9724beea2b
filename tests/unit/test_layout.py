"""The package's import graph keeps the pipeline's direction (docs/architecture.md): no
cycle between modules, stages import only the stages before them, probe types see only
each other, only the engine code talks to Docker."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "dnetlab"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file: inside functions and under
    TYPE_CHECKING too (a lazy import is still a dependency, and a cycle through type
    hints still ties the modules together)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from dnetlab.lab import records` imports the module dnetlab.lab.records
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}
GRAPH = {name: {m for m in _imports(path) if m in MODULES and m != name}
         for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read() -> None:
    # guard against a parser that finds nothing and so passes every rule below
    assert "dnetlab.load.pipeline" in GRAPH["dnetlab.lab.up"]
    assert "dnetlab.load.rendered" in GRAPH["dnetlab.load.templating"]


def test_no_import_cycle() -> None:
    assert _cycles() == []


def _stage(module: str) -> str:
    if module == "dnetlab.__main__":
        return "cli"  # `python -m dnetlab` is the console script
    parts = module.split(".")
    is_package = MODULES[module].name == "__init__.py"
    return parts[1] if len(parts) > 2 or (is_package and len(parts) == 2) else "shared"


# What each stage may import besides itself and the shared vocabulary (model, errors,
# labels, the package root, and probes/, the probe types the model is made of): the
# pipeline runs load -> reconcile -> engine -> lab -> verify -> cli, and nothing looks
# back up it except the library API (lab) calling verify. verify reads the live lab
# (reconcile.observed, what the engine saw) but never the reconciler's decisions.
# graph sits beside the pipeline: it draws the scenario, for cli only.
ALLOWED = {
    "shared": {"probes"},
    "probes": set(),
    "load": {"probes"},
    "reconcile": {"probes"},
    "engine": {"reconcile", "probes"},
    "lab": {"load", "reconcile", "engine", "verify", "probes"},
    "verify": {"engine", "probes", "dnetlab.reconcile.observed"},
    "cli": {"load", "reconcile", "engine", "lab", "verify", "probes", "graph"},
    # the picture of a lab: the model and the probe types only (the command line hands
    # it the scenario and the last verify report as parsed JSON)
    "graph": {"probes"},
}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_stages_import_only_earlier_stages(module: str) -> None:
    stage = _stage(module)
    allowed = ALLOWED[stage] | {stage} | ({"shared"} if stage != "probes" else set())
    wrong = sorted(m for m in GRAPH[module] if _stage(m) not in allowed and m not in allowed)
    assert not wrong, f"{module} ({stage}) imports {wrong}"


def test_probe_types_see_only_each_other() -> None:
    # shared by load (building) and verify (running): they may depend on neither
    assert not [(m, d) for m, deps in GRAPH.items() if m.startswith("dnetlab.probes")
                for d in deps if not d.startswith("dnetlab.probes")]


def test_verify_does_not_import_the_reconciler() -> None:
    assert not [(m, d) for m, deps in GRAPH.items() if m.startswith("dnetlab.verify")
                for d in deps
                if d.startswith("dnetlab.reconcile") and d != "dnetlab.reconcile.observed"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_engine_talks_to_docker(module: str) -> None:
    outside = {m.split(".")[0] for m in _imports(MODULES[module])} & {"docker", "paramiko"}
    if not module.startswith("dnetlab.engine"):
        assert not outside, f"{module} imports {sorted(outside)}"
