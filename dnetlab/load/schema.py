"""Stage 3: structural validation against the JSON Schema, in the user's words.

jsonschema's own messages name validators ("is not valid under any of the given
schemas"); these are rewritten as what is wrong and how to fix it, located at the key or
value in the file.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from dnetlab.load.findings import did_you_mean
from dnetlab.load.yamlload import Mark, Path, Positions

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}



def schema_text() -> str:
    return resources.files("dnetlab").joinpath("schemas/scenario.schema.json").read_text("utf-8")


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


@cache
def _validator() -> Draft202012Validator:
    # jsonschema costs 60 ms to import: only when a file is actually checked.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _expected(types: Any) -> str:
    if isinstance(types, str):
        types = [types]
    return " or ".join(_TYPE_WORDS.get(t, t) for t in types)


def _allowed_keys(subschema: dict[str, Any]) -> list[str]:
    return sorted(subschema.get("properties", {}))


def _pattern_words(subschema: dict[str, Any]) -> str:
    # patternErrorMessage is the wording editors (VS Code, yaml-language-server) show too.
    return str(subschema.get("patternErrorMessage") or f"the pattern {subschema.get('pattern')}")


class SchemaIssue:
    """A schema error reduced to a path, a position and a message."""

    def __init__(self, path: Path, mark: Mark | None, message: str, hint: str | None) -> None:
        self.path = path
        self.mark = mark
        self.message = message
        self.hint = hint


def _translate(err: ValidationError, positions: Positions) -> list[SchemaIssue]:
    path: Path = tuple(err.absolute_path)
    at = positions.of_value(path)
    v = err.validator
    sub = err.schema if isinstance(err.schema, dict) else {}
    if "propertyNames" in err.relative_schema_path and isinstance(err.instance, str):
        # jsonschema checks a key as a value at the mapping's own path.
        kpath = (*path, err.instance)
        words = _pattern_words(sub)
        return [SchemaIssue(kpath, positions.of_key(kpath),
                            f"{err.instance!r} is not a valid key: expected {words}", None)]
    if v == "additionalProperties" and isinstance(err.instance, dict):
        allowed = _allowed_keys(sub)
        out = []
        for key in err.instance:
            if key in sub.get("properties", {}):
                continue
            kpath = (*path, key)
            hint = did_you_mean(key, allowed) or (
                f"allowed here: {', '.join(allowed)}" if allowed else None
            )
            out.append(SchemaIssue(kpath, positions.of_key(kpath), f"unknown key {key!r}", hint))
        return out
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return [SchemaIssue(path, at, f"missing required key {missing!r}", None)]
    if v == "type":
        return [SchemaIssue(path, at, f"expected {_expected(err.validator_value)}, "
                            f"got {describe(err.instance)}", None)]
    if v in ("enum", "const"):
        raw: Any = err.validator_value
        choices: list[Any] = list(raw) if v == "enum" else [raw]
        words = ", ".join(json.dumps(c) for c in choices)
        if isinstance(err.instance, str) and any(
            not isinstance(c, str) and str(c) == err.instance for c in choices
        ):
            hint = "remove the quotes: it must be a number"
        else:
            hint = did_you_mean(str(err.instance), [str(c) for c in choices])
        return [SchemaIssue(path, at, f"{describe(err.instance)} is not allowed here: "
                            f"use {'one of ' if len(choices) > 1 else ''}{words}", hint)]
    if v == "pattern":
        words = _pattern_words(sub)
        return [SchemaIssue(path, at, f"{describe(err.instance)} is not valid: expected {words}",
                            None)]
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        lo, hi = sub.get("minimum"), sub.get("maximum")
        rng = f"from {lo} to {hi}" if lo is not None and hi is not None else (
            f"at least {lo}" if lo is not None else f"at most {hi}")
        return [SchemaIssue(path, at, f"{err.instance} is out of range: must be {rng}", None)]
    if v == "minItems":
        return [SchemaIssue(path, at, f"needs at least {err.validator_value} item(s)", None)]
    if v == "minProperties":
        return [SchemaIssue(path, at, f"needs at least {err.validator_value} entry", None)]
    if v == "minLength":
        return [SchemaIssue(path, at, "must not be empty", None)]
    if v == "maxLength":
        return [SchemaIssue(path, at, f"is longer than {err.validator_value} characters", None)]
    if v == "uniqueItems":
        return [SchemaIssue(path, at, "lists the same item twice", None)]
    return [SchemaIssue(path, at, err.message, None)]


def check(data: Any, positions: Positions) -> list[SchemaIssue]:
    issues: list[SchemaIssue] = []
    for err in _validator().iter_errors(data):
        # A then-branch of an if/then reports inside the branch; keep the deepest errors.
        if err.validator in ("allOf", "if", "then") and err.context:
            continue
        issues.extend(_translate(err, positions))
    # The same complaint can arrive twice through if/then dispatch.
    unique: dict[tuple[Path, str], SchemaIssue] = {}
    for i in issues:
        unique.setdefault((i.path, i.message), i)
    return list(unique.values())
