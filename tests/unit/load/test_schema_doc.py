"""The JSON Schema is complete enough for editors: descriptions and closed objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema

from dnetlab.load.schema import schema_text

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads(schema_text())


def _object_schemas(node: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if node.get("type") == "object" or (isinstance(node.get("type"), list)
                                            and "object" in node["type"]):
            yield path, node
        for k, v in node.items():
            yield from _object_schemas(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _object_schemas(v, f"{path}/{i}")


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_top_level_file_is_the_packaged_one() -> None:
    assert json.loads((ROOT / "schemas/scenario.schema.json").read_text()) == SCHEMA


def test_every_property_has_a_description() -> None:
    missing = [
        f"{path}/properties/{name}"
        for path, obj in _object_schemas(SCHEMA)
        for name, sub in obj.get("properties", {}).items()
        if not (isinstance(sub, dict) and sub.get("description"))
    ]
    assert missing == []


def test_every_optional_property_states_its_default() -> None:
    # docs/format.md has a default column: a `default` annotation or "Default: ..." words.
    silent = [
        f"{path}/properties/{name}"
        for path, obj in _object_schemas(SCHEMA)
        for name, sub in obj.get("properties", {}).items()
        if name not in obj.get("required", ())
        and "default" not in sub and "Default: " not in sub.get("description", "")
    ]
    assert silent == []


def test_every_object_is_closed() -> None:
    # The probe dispatcher is the one open object: its if/then branches are closed.
    open_objects = [
        path for path, obj in _object_schemas(SCHEMA)
        if "additionalProperties" not in obj and path != "#/$defs/probe"
    ]
    assert open_objects == []
    for name in ("ping", "dns", "tcp", "http", "traceroute", "interfaces", "routes", "file",
                 "exec"):
        assert SCHEMA["$defs"][f"probe_{name}"]["additionalProperties"] is False


def test_every_pattern_explains_itself() -> None:
    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                yield node
            for v in node.values():
                yield from walk(v)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v)

    assert all(n.get("patternErrorMessage") for n in walk(SCHEMA))
