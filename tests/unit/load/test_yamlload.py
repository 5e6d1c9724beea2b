"""YAML loading: positions, YAML 1.2 scalars, duplicates, and bounded work."""

from __future__ import annotations

import time

import pytest

from dnetlab.load.yamlload import MAX_VALUES, Mark, YamlProblem, load_yaml


def test_positions_of_keys_and_values() -> None:
    r = load_yaml("a:\n  b: [1, x]\n")
    assert r.positions.keys[("a", "b")] == Mark(2, 3)
    assert r.positions.values[("a", "b", 1)] == Mark(2, 10)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("on", "on"), ("yes", "yes"), ("no", "no"), ("off", "off"),
        ("22:22", "22:22"), ("010", 10), ("0o17", 15), ("0x1f", 31), ("1.5", 1.5),
        ("true", True), ("False", False), ("~", None), ("null", None), ("'3'", "3"),
        ("1e3", 1000.0), ("10.0.0.1", "10.0.0.1"),
    ],
)
def test_scalars_follow_yaml_1_2(text: str, value: object) -> None:
    assert load_yaml(f"k: {text}\n").data == {"k": value}


def test_on_stays_a_key_name() -> None:
    assert load_yaml("on: c1\n").data == {"on": "c1"}


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    r = load_yaml("a: 1\nb: 2\na: 3\n")
    assert len(r.problems) == 1
    assert r.problems[0].mark == Mark(3, 1)
    assert "already set at line 1" in r.problems[0].message


def test_merge_keys_work() -> None:
    assert load_yaml("base: &b {x: 1}\nd: {<<: *b, y: 2}\n").data["d"] == {"x": 1, "y": 2}


def test_alias_bomb_stops_fast() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    started = time.monotonic()
    with pytest.raises(YamlProblem) as err:
        load_yaml("\n".join(lines) + "\n")
    assert time.monotonic() - started < 5
    assert f"more than {MAX_VALUES} values" in err.value.message


def test_self_referencing_alias_is_refused() -> None:
    with pytest.raises(YamlProblem):
        load_yaml("a: &a [*a]\n")


def test_deep_nesting_is_refused_without_recursion_error() -> None:
    with pytest.raises(YamlProblem) as err:
        load_yaml("x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nesting deeper" in err.value.message


def test_python_tags_are_refused() -> None:
    with pytest.raises(YamlProblem) as err:
        load_yaml("x: !!python/object/apply:os.system ['true']\n")
    assert "unsupported YAML tag" in err.value.message
