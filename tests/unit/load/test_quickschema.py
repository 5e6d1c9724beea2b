"""The compiled schema predicate and the per-entry dispatch say what jsonschema says.

The schema stage skips jsonschema for what `quickschema` finds valid, and checks each
entry against its own definition: both must agree with the whole schema run by
jsonschema, on valid files, on broken ones and on random mutations of them.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest

from dnetlab.load import schema as schema_mod
from dnetlab.load.yamlload import Positions, YamlProblem, load_yaml

ROOT = Path(__file__).resolve().parents[3]
FILES = sorted([*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("tests/bad/*.yaml"),
                *ROOT.glob("tests/hostile/*.yaml")])


def _documents() -> list[Any]:
    docs = []
    for f in FILES:
        try:
            text = f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if "{{" in text or "{%" in text:
            continue
        try:
            data = load_yaml(text).data
        except YamlProblem:
            continue
        if isinstance(data, dict):
            docs.append(data)
    return docs


DOCS = _documents()

# values a mutation puts in place of another
ODD: list[Any] = [None, True, 0, 1.0, -1, 10**6, float("nan"), "", "x", "a\n", "lan",
                  "10.0.0.0/24", "1.2.3.4", [], ["a", "a"], [1, "a"], {}, {"x": 1}]


def _mutate(data: Any, rng: random.Random) -> Any:
    """One random change somewhere in the document."""
    data = copy.deepcopy(data)
    node, key = data, None
    for _ in range(rng.randint(1, 6)):
        if isinstance(node, dict) and node:
            key = rng.choice(list(node))
        elif isinstance(node, list) and node:
            key = rng.randrange(len(node))
        else:
            break
        parent, node = node, node[key]
    if key is None:
        return data
    choice = rng.random()
    if choice < 0.6:
        parent[key] = copy.deepcopy(rng.choice(ODD))
    elif choice < 0.8 and isinstance(parent, dict):
        parent[f"{key}_x" if isinstance(key, str) else "extra"] = 1
    elif isinstance(parent, dict):
        del parent[key]
    else:
        parent.append(copy.deepcopy(parent[key]))
    return data


def _whole_errors(data: Any) -> set[tuple[Any, ...]]:
    return {(tuple(e.absolute_path), e.message) for e in schema_mod._validator().iter_errors(data)
            if not (e.validator in ("allOf", "if", "then") and e.context)}


def _dispatched_errors(data: Any) -> set[tuple[Any, ...]]:
    return {((*prefix, *e.absolute_path), e.message) for prefix, e in schema_mod._errors(data)
            if not (e.validator in ("allOf", "if", "then") and e.context)}


def _samples() -> list[Any]:
    rng = random.Random(9)
    out = list(DOCS)
    for _ in range(600):
        out.append(_mutate(rng.choice(DOCS), rng))
    return out


SAMPLES = _samples()


def test_enough_documents() -> None:
    assert len(DOCS) > 100


@pytest.mark.parametrize("i", range(0, len(SAMPLES), 25))
def test_quick_predicate_agrees_with_jsonschema(i: int) -> None:
    for data in SAMPLES[i:i + 25]:
        valid = not any(True for _ in schema_mod._validator().iter_errors(data))
        assert schema_mod._quick("whole")(data) == valid, data


@pytest.mark.parametrize("i", range(0, len(SAMPLES), 25))
def test_dispatch_gives_the_errors_of_the_whole_schema(i: int) -> None:
    for data in SAMPLES[i:i + 25]:
        assert _dispatched_errors(data) == _whole_errors(data), data


def test_schema_is_compiled_and_dispatched() -> None:
    # a keyword the compiler does not know would silently send everything to jsonschema
    assert schema_mod._dispatch() is not None
    for part in ("whole", "top", "probe_base", "entry:hosts", "entry:networks",
                 "entry:containers", "probe:ping", "probe:exec"):
        assert schema_mod._quick(part) is not schema_mod._ALWAYS, part


def test_check_stops_after_the_limit() -> None:
    data = {"version": 1, "name": "lab", "containers": {"a": {"image": "b",
                                                               "cap_add": list(range(500))}}}
    result = schema_mod.check_all(data, Positions())
    assert result.truncated
    assert len(result.issues) == 200
