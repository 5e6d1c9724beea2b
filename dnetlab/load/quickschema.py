"""A yes/no check of a value against the scenario schema, about ten times faster than
jsonschema, for the schema stage to skip what is valid.

jsonschema costs some microseconds per keyword and value it visits, so a file near the
1 MiB limit (tens of thousands of entries, up to 200,000 values) took seconds even when
valid. Here the schema is compiled once into nested closures that only answer "valid or
not"; jsonschema still checks every entry this finds invalid, so the messages are its
own. Only the keywords the scenario schema uses are compiled; a schema with any other
keyword compiles to None, and everything goes through jsonschema as before.
`tests/unit/load/test_quickschema.py` holds the two to the same verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# What only annotates: no effect on validity.
_ANNOTATIONS = frozenset({"description", "default", "examples", "title", "$comment",
                          "patternErrorMessage", "$schema", "$id", "$defs", "deprecated"})


class _Unsupported(Exception):
    pass


def _is_integer(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer())


_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


class _Compiler:
    def __init__(self, root: dict[str, Any], pattern_ok: Callable[[str, str], bool],
                 canonical: Callable[[Any], Any]) -> None:
        self.root = root
        self.pattern_ok = pattern_ok
        self.canonical = canonical
        self.refs: dict[str, Check] = {}

    def ref(self, target: str) -> Check:
        if not target.startswith("#/$defs/"):
            raise _Unsupported(target)
        name = target[len("#/$defs/"):]
        if name not in self.refs:
            slot: list[Check] = []
            self.refs[name] = lambda v: slot[0](v)  # a definition may refer to itself
            slot.append(self.compile(self.root["$defs"][name]))
        return self.refs[name]

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return _yes
        if schema is False:
            return _no
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema))
        checks = [self.keyword(kw, arg, schema) for kw, arg in schema.items()
                  if kw not in _ANNOTATIONS and kw not in ("then", "else")]  # with `if`
        if len(checks) == 1:
            return checks[0]

        def every(v: Any) -> bool:
            return all(c(v) for c in checks)
        return every

    def keyword(self, kw: str, arg: Any, schema: dict[str, Any]) -> Check:
        """One keyword as a predicate; each is true of the values it does not apply to,
        as in JSON Schema."""
        if kw == "$ref":
            return self.ref(arg)
        if kw == "type":
            preds = [_TYPES[n] for n in ([arg] if isinstance(arg, str) else arg)]
            return lambda v: any(p(v) for p in preds)
        if kw in _OBJECT:
            return _on(dict, self.object_keyword(kw, arg, schema))
        if kw in _ARRAY:
            return _on(list, self.array_keyword(kw, arg))
        if kw in ("enum", "const"):
            canon = self.canonical
            allowed = {canon(c) for c in (arg if kw == "enum" else [arg])}
            return lambda v: canon(v) in allowed
        if kw == "pattern":
            ok = self.pattern_ok
            return _on(str, lambda v: ok(arg, v))
        if kw == "minLength":
            return _on(str, lambda v: len(v) >= arg)
        if kw == "maxLength":
            return _on(str, lambda v: len(v) <= arg)
        if kw == "minimum":
            return lambda v: not _number(v) or v >= arg
        if kw == "maximum":
            return lambda v: not _number(v) or v <= arg
        if kw == "allOf":
            parts = [self.compile(s) for s in arg]
            return lambda v: all(p(v) for p in parts)
        if kw == "if":
            cond, then = self.compile(arg), self.compile(schema.get("then", True))
            other = self.compile(schema.get("else", True))
            return lambda v: then(v) if cond(v) else other(v)
        raise _Unsupported(kw)

    def object_keyword(self, kw: str, arg: Any, schema: dict[str, Any]) -> Check:
        if kw == "properties":
            props = [(k, self.compile(s)) for k, s in arg.items()]
            return lambda v: all(c(v[k]) for k, c in props if k in v)
        if kw == "additionalProperties" and "patternProperties" not in schema:
            known = frozenset(schema.get("properties", {}))
            if arg is False:
                return lambda v: all(k in known for k in v)
            extra = self.compile(arg)
            return lambda v: all(extra(x) for k, x in v.items() if k not in known)
        if kw == "required":
            need = list(arg)
            return lambda v: all(k in v for k in need)
        if kw == "propertyNames":
            name = self.compile(arg)
            return lambda v: all(name(k) for k in v)
        if kw == "minProperties":
            return lambda v: len(v) >= arg
        if kw == "maxProperties":
            return lambda v: len(v) <= arg
        raise _Unsupported(kw)

    def array_keyword(self, kw: str, arg: Any) -> Check:
        if kw == "items":
            item = self.compile(arg)
            return lambda v: all(item(x) for x in v)
        if kw == "contains":
            inner = self.compile(arg)
            return lambda v: any(inner(x) for x in v)
        if kw == "minItems":
            return lambda v: len(v) >= arg
        if kw == "uniqueItems":
            canon = self.canonical
            return (lambda v: len({canon(x) for x in v}) == len(v)) if arg else _yes
        raise _Unsupported(kw)


_OBJECT = frozenset({"properties", "additionalProperties", "required", "propertyNames",
                     "minProperties", "maxProperties"})
_ARRAY = frozenset({"items", "contains", "minItems", "uniqueItems"})


def _yes(v: Any) -> bool:
    return True


def _no(v: Any) -> bool:
    return False


def _on(kind: type, check: Check) -> Check:
    """`check` for values of `kind`; true of the others."""
    def applies(v: Any) -> bool:
        return not isinstance(v, kind) or check(v)
    return applies


def compile_schema(schema: dict[str, Any], root: dict[str, Any],
                   pattern_ok: Callable[[str, str], bool],
                   canonical: Callable[[Any], Any]) -> Check | None:
    """`schema` (a part of `root`) as a predicate, or None if it uses a keyword not
    compiled here. `pattern_ok(pattern, text)` and `canonical(value)` must be the ones
    the jsonschema validator uses for `pattern` and for equality."""
    try:
        return _Compiler(root, pattern_ok, canonical).compile(schema)
    except (_Unsupported, KeyError, TypeError, re.error):
        return None
