"""The package's imports go one way: no module imports itself back through others, and
the shared stages import nothing of the stages after them.

Imports inside functions and under TYPE_CHECKING count: a cycle through them still ties
the modules together, even when Python happens to import them in a working order.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "dnetlab"


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in ROOT.rglob("*.py")}


def _imports(module: str) -> set[str]:
    """The dnetlab modules that `module` imports, anywhere in its text."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for n in names:
            while n and n not in MODULES:  # `from pkg import name`: the module `pkg`
                n = n.rpartition(".")[0]
            if n and n != module:
                found.add(n)
    return found


GRAPH = {m: _imports(m) for m in MODULES}


def test_no_import_cycle() -> None:
    try:
        TopologicalSorter(GRAPH).prepare()
    except CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


@pytest.mark.parametrize(("package", "allowed"), [
    # probe types are shared by load and verify: they see only each other
    ("dnetlab.probes", ("dnetlab.probes",)),
    # loading runs before everything else, and knows nothing of what comes after it
    ("dnetlab.load", ("dnetlab.load", "dnetlab.probes", "dnetlab.model", "dnetlab.errors")),
])
def test_a_stage_imports_only_what_comes_before_it(package: str,
                                                   allowed: tuple[str, ...]) -> None:
    def within(m: str, prefix: str) -> bool:
        return m == prefix or m.startswith(prefix + ".")

    wrong = sorted(f"{m} -> {i}" for m in GRAPH if within(m, package) for i in GRAPH[m]
                   if not any(within(i, a) for a in allowed))
    assert wrong == []
