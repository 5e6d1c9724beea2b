"""docs/format.md, the format reference: what the generator makes, and complete on its own.

The first test compares the file with scripts/format-doc.py's output. The others read
the Markdown tables themselves and hold them against the schema, so that they still
catch a missing or invented key if the generator is changed.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from dnetlab.load.pipeline import load
from dnetlab.load.schema import schema_text

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs/format.md"
GENERATOR = ROOT / "scripts/format-doc.py"
SCHEMA = json.loads(schema_text())
FIX = "run `make docs` (or `.venv/bin/python scripts/format-doc.py`) and commit docs/format.md"

# (path, variant): path as the doc writes it with every <placeholder> as <>, "" for the
# top level; variant is the `type` a probe section is for, else None.
Where = tuple[str, str | None]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("format_doc", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_doc_is_what_the_generator_makes() -> None:
    made = _generator().render()
    current = DOC.read_text(encoding="utf-8")
    if current != made:
        diff = "".join(list(difflib.unified_diff(
            current.splitlines(keepends=True), made.splitlines(keepends=True),
            "docs/format.md", "generated"))[:40])
        pytest.fail(f"docs/format.md is not what scripts/format-doc.py makes from the current "
                    f"schema: {FIX}\n{diff}")


# -- the doc's tables, read as a user reads them ----------------------------------------------
_HEADING = re.compile(r"^#{1,6} ")
_PATH = re.compile(r"^Path: (?:`(?P<path>[^`]+)`(?: with `type: (?P<type>[\w-]+)`)?"
                   r"|(?P<top>the top level of the file))$")
_ROW = re.compile(r"^\|(?P<cells>.*)\|$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_HEADER = ["key", "type", "required", "default", "meaning"]


def _lines(path: Path) -> list[tuple[int, str]]:
    """Numbered lines outside fenced code blocks (a `# comment` there is no heading)."""
    out, fenced = [], False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            out.append((n, line))
    return out


def _documented() -> dict[Where, dict[str, bool]]:
    """(path, variant) -> {key: required} from the Path lines and tables of docs/format.md."""
    sections: dict[Where, dict[str, bool]] = {}
    current: Where | None = None
    for n, line in _lines(DOC):
        if _HEADING.match(line):
            current = None
            continue
        if m := _PATH.match(line):
            current = ("" if m["top"] else re.sub(r"<[^>]*>", "<>", m["path"]), m["type"])
            assert current not in sections, f"docs/format.md:{n}: a second section for {current}"
            sections[current] = {}
            continue
        if not (m := _ROW.match(line)) or set(line) <= set("|-: "):
            continue
        cells = [c.strip() for c in _CELL_SPLIT.split(m["cells"])]
        if cells == _HEADER:
            continue
        assert current is not None, f"docs/format.md:{n}: a table row outside a section with " \
                                    "a Path line"
        assert len(cells) == len(_HEADER), f"docs/format.md:{n}: {len(cells)} cells"
        key = re.fullmatch(r"`([^`]+)`", cells[0])
        assert key, f"docs/format.md:{n}: the key cell is not one `key`: {cells[0]!r}"
        assert key[1] not in sections[current], f"docs/format.md:{n}: {key[1]} twice"
        assert cells[2] in ("yes", "no"), f"docs/format.md:{n}: required is {cells[2]!r}"
        assert cells[3] and cells[4], f"docs/format.md:{n}: an empty default or meaning"
        sections[current][key[1]] = cells[2] == "yes"
    return sections


# -- the same, from the schema ------------------------------------------------------------------
def _deref(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        prefix = "#/$defs/"
        assert node["$ref"].startswith(prefix)
        node = SCHEMA["$defs"][node["$ref"][len(prefix):]]
    return node


def _in_schema() -> dict[Where, dict[str, bool]]:
    """(path, variant) -> {key: required} for every object of the schema with properties."""
    found: dict[Where, dict[str, bool]] = {}
    seen: set[str] = set()  # definitions walked: an if/then/else may name one again

    def obj(node: dict[str, Any], path: str, variant: str | None) -> None:
        node = _deref(node)
        required = set(node.get("required", ()))
        assert (path, variant) not in found
        found[(path, variant)] = {k: k in required for k in node.get("properties", {})}
        for key, sub in node.get("properties", {}).items():
            inner(sub, f"{path}.{key}" if path else key)
        for branch in node.get("allOf", ()):
            (cond,) = branch["if"]["properties"].values()  # the probe dispatcher: type
            obj(branch["then"], path, cond["const"])

    def inner(node: dict[str, Any], path: str) -> None:
        if "$ref" in node:
            seen.add(node["$ref"])
        node = _deref(node)
        if "properties" in node:
            obj(node, path, None)
        if isinstance(node.get("additionalProperties"), dict):
            inner(node["additionalProperties"], f"{path}.<>")
        if isinstance(node.get("items"), dict):
            inner(node["items"], f"{path}[N]")
        for branch in ("then", "else"):  # a list item of one of two kinds (a step's probes)
            ref = node.get(branch, {}).get("$ref")
            if ref is not None and ref not in seen:
                seen.add(ref)
                inner(node[branch], path)

    obj(SCHEMA, "", None)
    return found


def test_every_schema_key_is_documented() -> None:
    doc = _documented()
    missing = [f"{path or '(top level)'}{f' type={v}' if v else ''}: {key}"
               for (path, v), keys in _in_schema().items() for key in keys
               if key not in doc.get((path, v), {})]
    assert missing == [], f"keys of the schema missing from docs/format.md; {FIX}"


def test_no_documented_key_is_absent_from_the_schema() -> None:
    schema = _in_schema()
    extra = [f"{path or '(top level)'}{f' type={v}' if v else ''}: {key}"
             for (path, v), keys in _documented().items() for key in keys
             if key not in schema.get((path, v), {})]
    assert extra == [], f"docs/format.md documents keys the schema lacks; {FIX}"


def test_required_column_is_the_schemas() -> None:
    schema = _in_schema()
    wrong = [(where, key) for where, keys in _documented().items()
             for key, required in keys.items()
             if key in schema[where] and schema[where][key] is not required]
    assert wrong == []


def test_walks_reach_every_object() -> None:
    # Guards the two walks above against silently finding nothing.
    where = set(_in_schema())
    assert {("", None), ("hosts.<>", None), ("networks.<>", None), ("containers.<>", None),
            ("containers.<>.networks.<>", None), ("probes[N]", None)} <= where
    probe_types = SCHEMA["$defs"]["probe"]["properties"]["type"]["enum"]
    assert {("probes[N]", t) for t in probe_types} <= where
    assert set(_documented()) == where


# -- the rest of the page -----------------------------------------------------------------------
def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def test_example_is_a_valid_scenario(tmp_path: Path) -> None:
    blocks = _yaml_blocks(DOC.read_text(encoding="utf-8"))
    assert blocks, "docs/format.md has a complete example"
    for i, block in enumerate(blocks):
        path = tmp_path / f"example{i}.yaml"
        path.write_text(block, encoding="utf-8")
        loaded = load(str(path))  # raises ScenarioInvalid with every problem
        assert loaded.warnings == ()


def _slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for _, line in _lines(path) if _HEADING.match(line)}


def test_links_resolve() -> None:
    # Markdown links outside code: a regex in a code span may look like one.
    text = re.sub(r"`[^`]*`", "", "\n".join(line for _, line in _lines(DOC)))
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert "#container" in targets and "scenario-format.md" in targets
    broken = []
    for target in targets:
        if re.match(r"[a-z]+://", target):
            continue
        file, _, anchor = target.partition("#")
        dest = (DOC.parent / file).resolve() if file else DOC
        if not dest.exists() or (anchor and anchor not in _anchors(dest)):
            broken.append(target)
    assert broken == []


def test_no_doc_points_at_the_contract_outside_the_repository() -> None:
    # A user's clone has no ../shared/spec: the format reference is docs/format.md.
    files = [ROOT / "README.md", *sorted((ROOT / "docs").iterdir())]
    assert [f.name for f in files if "shared/spec" in f.read_text(encoding="utf-8")] == []
    assert "(docs/format.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(format.md)" in (ROOT / "docs/scenario-format.md").read_text(encoding="utf-8")
