"""Stage 3: structural validation against the JSON Schema, in the user's words.

jsonschema's own messages name validators ("is not valid under any of the given
schemas"); these are rewritten as what is wrong and how to fix it, located at the key or
value in the file.

Some keywords are dnetlab's own (`_validator`): `pattern` refuses control characters and
a trailing newline (Python's `$` matches before one, ECMA-262's, which editors use, does
not), `uniqueItems` is linear (jsonschema compares every pair of a list that does not
sort), and `minimum`/`maximum` refuse YAML's `.nan` (no comparison is true of it, so no
bound stopped it). Each entry of `hosts`, `networks`, `containers` and `probes` (and each probe
of a step) is checked against its own definition, a probe against its type's only
(`_Dispatch`): the same errors as the
whole schema gives, a few times faster on a large file. And each part is first checked by
a compiled yes/no predicate (`quickschema`): jsonschema looks only at what is invalid.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from dnetlab.errors import shown
from dnetlab.load.findings import did_you_mean
from dnetlab.load.limits import MAX_ISSUES
from dnetlab.load.quickschema import Check, compile_schema
from dnetlab.load.yamlload import Mark, Path, Positions

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

# Control characters (Cc), line and paragraph separators, and the invisible format
# characters (Cf) that reorder or hide text: bidi overrides and isolates, zero-width
# characters, the BOM, tag characters. No name, key, address or URL holds one.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\xad\u061c\u180e\u200b-\u200f\u2028-\u202e"
                      "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
                      "\U000e0000-\U000e007f]")

# Keys a message lists when an object holds more than it may: enough to recognise them.
MAX_LISTED_KEYS = 5

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
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _pattern_ok(pattern: str, text: str) -> bool:
    return not _CONTROL.search(text) and _compiled(pattern).search(text) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and not _pattern_ok(pattern, instance):
        yield ValidationError(f"{shown(instance)} does not match {pattern!r}")


def _canonical(value: Any) -> Any:
    """A hashable form under which two JSON values are equal exactly when JSON Schema
    says so (1 equals 1.0, true does not equal 1)."""
    if isinstance(value, bool) or value is None:
        return ("const", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(v) for v in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, _canonical(v)) for k, v in value.items()))
    return ("other", repr(value))


def _unique_items(validator: Any, unique: bool, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if not unique or not isinstance(instance, list):
        return
    seen: set[Any] = set()
    for item in instance:
        key = _canonical(item)
        if key in seen:
            yield ValidationError(f"{shown(item)} appears twice")
            return
        seen.add(key)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _minimum(validator: Any, bound: float, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if _number(instance) and not instance >= bound:  # `not >=`: true of nan
        yield ValidationError(f"{shown(instance)[1:-1]} is less than the minimum of {bound}")


def _maximum(validator: Any, bound: float, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if _number(instance) and not instance <= bound:
        yield ValidationError(f"{shown(instance)[1:-1]} is greater than the maximum of {bound}")


@cache
def _validator() -> Draft202012Validator:
    # jsonschema costs 60 ms to import: only when a file is actually checked.
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    checker = extend(Draft202012Validator,  # type: ignore[no-untyped-call]
                     {"pattern": _pattern, "uniqueItems": _unique_items,
                      "minimum": _minimum, "maximum": _maximum})
    return checker(schema())  # type: ignore[no-any-return]


def describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {shown(value)[1:-1]}"
    if isinstance(value, str):
        return f"the string {shown(value)}"
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


def _translate(err: ValidationError, positions: Positions, prefix: Path) -> list[SchemaIssue]:
    path: Path = (*prefix, *err.absolute_path)
    at = positions.of_value(path)
    v = err.validator
    sub = err.schema if isinstance(err.schema, dict) else {}
    if "propertyNames" in err.relative_schema_path and isinstance(err.instance, str):
        # jsonschema checks a key as a value at the mapping's own path.
        kpath = (*path, err.instance)
        words = _pattern_words(sub)
        return [SchemaIssue(kpath, positions.of_key(kpath),
                            f"{shown(err.instance)} is not a valid key: expected {words}", None)]
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
            out.append(SchemaIssue(kpath, positions.of_key(kpath), f"unknown key {shown(key)}",
                                   hint))
            if len(out) > MAX_ISSUES:  # one error for 100,000 keys: the first ones do
                break
        return out
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return [SchemaIssue(path, at, f"missing required key {shown(missing)}", None)]
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
        return [SchemaIssue(path, at, f"{shown(err.instance)[1:-1]} is out of range: must be "
                            f"{rng}", None)]
    if v == "minItems":
        return [SchemaIssue(path, at, f"needs at least {err.validator_value} item(s)", None)]
    if v == "maxProperties" and err.validator_value == 1 and isinstance(err.instance, dict):
        # `action` is the schema's one object of exactly one key: its kind
        keys = ", ".join(shown(k) for k in list(err.instance)[:MAX_LISTED_KEYS])
        return [SchemaIssue(path, at, f"holds {len(err.instance)} actions ({keys}): write each "
                            "action as its own list item", "start each action with its own `- `")]
    if v == "minProperties" and sub.get("maxProperties") == 1:
        kinds = ", ".join(_allowed_keys(sub))
        return [SchemaIssue(path, at, "an empty action", f"write one of {kinds}")]
    if v == "minProperties":
        return [SchemaIssue(path, at, f"needs at least {err.validator_value} entry", None)]
    if v == "minLength":
        return [SchemaIssue(path, at, "must not be empty", None)]
    if v == "maxLength":
        return [SchemaIssue(path, at, f"is longer than {err.validator_value} characters", None)]
    if v == "uniqueItems":
        return [SchemaIssue(path, at, "lists the same item twice", None)]
    return [SchemaIssue(path, at, err.message, None)]


# The sections whose entries are checked one by one: the keyword of the section that
# holds its entries' schema, and that schema's definition.
_SECTIONS = {"hosts": ("additionalProperties", "host"),
             "networks": ("additionalProperties", "network"),
             "containers": ("additionalProperties", "container"),
             "probes": ("items", "probe")}


@dataclass(frozen=True)
class _Dispatch:
    """The schema cut in pieces: the top level without its sections' entries, each
    entry's definition, and for probes the base part and one definition per type."""

    top: dict[str, Any]
    entry: dict[str, dict[str, Any]]  # section -> the definition its entries follow
    probe_base: dict[str, Any]
    probe_types: dict[str, dict[str, Any]]  # probe type -> its definition
    probe_use: dict[str, Any]  # a step's `{use: NAME}` probe


def _ref_name(sub: Any) -> str | None:
    if isinstance(sub, dict) and set(sub) == {"$ref"} and sub["$ref"].startswith("#/$defs/"):
        return str(sub["$ref"][len("#/$defs/"):])
    return None


@cache
def _dispatch() -> _Dispatch | None:
    """None when the schema is not of the shape this expects: then the whole schema is
    checked at once, as before (slower, same result)."""
    root = schema()
    top = copy.deepcopy(root)
    # jsonschema's `evolve` picks the validator class by `$schema`: it would drop the
    # keywords of `_validator` for the standard ones
    del top["$schema"]
    entry: dict[str, dict[str, Any]] = {}
    for section, (keyword, name) in _SECTIONS.items():
        holder = top["properties"].get(section, {})
        if _ref_name(holder.get(keyword)) != name or name not in root["$defs"]:
            return None
        holder[keyword] = {}  # the entries are checked one by one
        entry[section] = root["$defs"][name]
    # a step's probes too: each as a top-level probe is, or as a `use`
    step_probes = top["$defs"].get("step", {}).get("properties", {}).get("probes", {})
    items = step_probes.get("items", {})
    if (set(items) != {"if", "then", "else"} or items["if"] != {"required": ["use"]}
            or _ref_name(items["then"]) != "probe_use" or _ref_name(items["else"]) != "probe"):
        return None
    step_probes["items"] = {}
    probe = dict(root["$defs"]["probe"])
    types: dict[str, dict[str, Any]] = {}
    for branch in probe.pop("allOf", []):
        cond = branch.get("if", {})
        if set(branch) != {"if", "then"} or cond.get("required") != ["type"] or set(cond) != {
                "properties", "required"}:
            return None
        const = cond["properties"].get("type", {}).get("const")
        target = _ref_name(branch["then"])
        if not isinstance(const, str) or target is None or set(cond["properties"]) != {"type"}:
            return None
        types[const] = root["$defs"][target]
    return _Dispatch(top, entry, probe, types, root["$defs"]["probe_use"])


_ALWAYS: Check = lambda v: False  # noqa: E731 - "not known valid": jsonschema decides


@cache
def _quick(part: str) -> Check:
    """The compiled predicate of a part of the schema: "whole", "top", "probe_base",
    "entry:SECTION" or "probe:TYPE"; one that says False for all when it cannot be
    compiled (jsonschema then checks everything)."""
    d = _dispatch()
    root = schema()
    if part == "whole":
        sub: Any = root
    elif d is None:
        return _ALWAYS
    elif part == "top":
        # its own $defs: their `step` leaves its probes to the parts below
        sub = root = d.top
    elif part == "probe_base":
        sub = d.probe_base
    elif part == "probe_use":
        sub = d.probe_use
    elif part.startswith("entry:"):
        sub = d.entry[part[len("entry:"):]]
    else:
        sub = d.probe_types[part[len("probe:"):]]
    return compile_schema(sub, root, _pattern_ok, _canonical) or _ALWAYS


@cache
def _part_validator(part: str) -> Any:
    """jsonschema's validator for a part named as in `_quick`; made (and jsonschema
    imported, 60 ms) only when the compiled predicate finds something invalid."""
    v = _validator()
    d = _dispatch()
    if part == "whole" or d is None:
        return v
    if part == "top":
        return v.evolve(schema=d.top)
    if part == "probe_base":
        return v.evolve(schema=d.probe_base)
    if part == "probe_use":
        return v.evolve(schema=d.probe_use)
    if part.startswith("entry:"):
        return v.evolve(schema=d.entry[part[len("entry:"):]])
    return v.evolve(schema=d.probe_types[part[len("probe:"):]])


def _check_part(part: str, value: Any, at: Path) -> Iterator[tuple[Path, ValidationError]]:
    if not _quick(part)(value):
        yield from ((at, e) for e in _part_validator(part).iter_errors(value))


def _errors(data: Any) -> Iterator[tuple[Path, ValidationError]]:
    """Every schema error, with the path of the entry it was found in."""
    d = _dispatch()
    if d is None or not isinstance(data, dict):
        yield from _check_part("whole", data, ())
        return
    yield from _check_part("top", data, ())
    for section in d.entry:
        entries = data.get(section)
        if section == "probes":
            if not isinstance(entries, list):
                continue
            for i, probe in enumerate(entries):
                yield from _probe_errors(d, probe, (section, i))
            continue
        if not isinstance(entries, dict):
            continue
        part = f"entry:{section}"
        for key, value in entries.items():
            yield from _check_part(part, value, (section, key))


    steps = data.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else ()):
        probes = step.get("probes") if isinstance(step, dict) else None
        if not isinstance(probes, list):  # `top` said so
            continue
        for j, probe in enumerate(probes):
            at: Path = ("steps", i, "probes", j)
            if isinstance(probe, dict) and "use" in probe:
                yield from _check_part("probe_use", probe, at)
            else:
                yield from _probe_errors(d, probe, at)


def _probe_errors(d: _Dispatch, probe: Any, at: Path) -> Iterator[tuple[Path, ValidationError]]:
    yield from _check_part("probe_base", probe, at)
    # `if: {properties: {type: {const: T}}}` holds for a probe of type T, and for anything
    # that is not a mapping: then it failed `type` above already
    kind = probe.get("type") if isinstance(probe, dict) else None
    if isinstance(kind, str) and kind in d.probe_types:
        yield from _check_part(f"probe:{kind}", probe, at)


@dataclass(frozen=True)
class SchemaResult:
    issues: list[SchemaIssue]
    truncated: bool  # stopped at MAX_ISSUES: later stages would build on unchecked data


def check_all(data: Any, positions: Positions) -> SchemaResult:
    issues: list[SchemaIssue] = []
    # The same complaint can arrive twice through if/then dispatch.
    seen: set[tuple[Path, str]] = set()
    for prefix, err in _errors(data):
        # A then-branch of an if/then reports inside the branch; keep the deepest errors.
        if err.validator in ("allOf", "if", "then") and err.context:
            continue
        for i in _translate(err, positions, prefix):
            if (i.path, i.message) in seen:
                continue
            seen.add((i.path, i.message))
            issues.append(i)
        # Past this many the check stops: such a file is not one to fix line by line,
        # and each error costs time to find and to print.
        if len(issues) >= MAX_ISSUES:
            return SchemaResult(issues[:MAX_ISSUES], True)
    return SchemaResult(issues, False)


def check(data: Any, positions: Positions) -> list[SchemaIssue]:
    return check_all(data, positions).issues
