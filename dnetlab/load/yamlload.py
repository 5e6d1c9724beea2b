"""Position-aware YAML loading.

PyYAML's own loaders lose positions, silently keep the last of duplicate keys and follow
YAML 1.1 (where `on`, `yes` and `no` are booleans and `22:22` is a number). Scenario files
need the opposite on each point, so this module composes the node graph itself, resolves
scalars by YAML 1.2's core schema, and records the position of every key and value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

Path = tuple[str | int, ...]

MAX_DEPTH = 64  # a real scenario nests about 6 deep
MAX_VALUES = 200_000  # values after alias expansion: stops "billion laughs" files

_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN = re.compile(r"^\.(nan|NaN|NAN)$")
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class Positions:
    """Where each value (and each mapping key) of the document stands in the text."""

    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def of_value(self, path: Path) -> Mark | None:
        # Fall back to the nearest enclosing value that has a position.
        p = path
        while True:
            if p in self.values:
                return self.values[p]
            if not p:
                return None
            p = p[:-1]

    def of_key(self, path: Path) -> Mark | None:
        return self.keys.get(path) or self.of_value(path)


class YamlProblem(Exception):
    def __init__(self, mark: Mark | None, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message
        self.hint = hint


class _DepthLimitedComposer(Composer):
    """PyYAML composes recursively; bound the depth before Python's stack runs out."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[attr-defined]  # from the Parser mixin
                raise YamlProblem(
                    _mark(event.start_mark),
                    f"nesting deeper than {MAX_DEPTH} levels",
                    "a scenario nests a handful of levels; this looks like a broken or "
                    "hostile file",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Loader(Reader, Scanner, Parser, _DepthLimitedComposer, BaseResolver):
    """Composes nodes only: scalars are resolved by `_scalar`, not by PyYAML's resolver."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        BaseResolver.__init__(self)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        # Plain scalars get "?" so that `_scalar` applies YAML 1.2 rules to them.
        if kind is ScalarNode and implicit[0]:
            return "?"
        return BaseResolver.resolve(self, kind, value, implicit)  # type: ignore[no-untyped-call,no-any-return]


def _mark(m: Any) -> Mark:
    return Mark(m.line + 1, m.column + 1)


_HINTS: list[tuple[str, str]] = [
    ("found character '\\t'", "YAML indentation must use spaces, not a tab"),
    ("mapping values are not allowed here", "a value that contains ': ' must be quoted, or "
     "this line is indented differently from the key above it"),
    ("could not find expected ':'", "a key is missing its ':' or a quote is not closed"),
    ("expected <block end>", "this line's indentation does not line up with its siblings"),
    ("found undefined alias", "an `*alias` needs a matching `&anchor` earlier in the file"),
    ("found unexpected end of stream", "a quote or bracket opened here is never closed"),
    ("while scanning a quoted scalar", "a quote opened here is never closed"),
    ("found unknown escape character", "in double quotes a backslash starts an escape; use "
     "single quotes for literal backslashes"),
    ("expected a single document", "a scenario is one YAML document: remove the extra `---`"),
    ("unacceptable character", "the file contains control characters: is it binary?"),
    ("while parsing a flow", "a `{` or `[` is not closed, or a value starting with `{` "
     "(such as a Jinja expression) needs quotes"),
]


def _hint_for(text: str) -> str | None:
    for needle, hint in _HINTS:
        if needle in text:
            return hint
    return None


def _problem_from_yaml_error(exc: yaml.YAMLError) -> YamlProblem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if "end of stream" in str(problem) and getattr(exc, "context_mark", None) is not None:
        mark = exc.context_mark  # type: ignore[attr-defined]  # where the quote was opened
    context = getattr(exc, "context", None)
    text = f"{context}: {problem}" if context else str(problem)
    text = text.replace("\t", "\\t")
    if isinstance(exc, yaml.reader.ReaderError):
        return YamlProblem(None, f"unreadable text: {exc}", _hint_for("unacceptable character"))
    return YamlProblem(
        _mark(mark) if mark is not None else None,
        f"invalid YAML: {text}",
        _hint_for(text + " " + str(exc)),
    )


_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {"?", "!"} | {_STD + t for t in ("str", "int", "float", "bool", "null",
                                                "map", "seq")}


def _check_tag(node: Node) -> None:
    if node.tag not in _ALLOWED_TAGS:
        raise YamlProblem(
            _mark(node.start_mark),
            f"unsupported YAML tag {node.tag.replace(_STD, '!!')!r}",
            "scenario files use plain YAML values only; remove the `!` tag",
        )


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> YamlProblem:
    pos = exc.position
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or " ")
    return YamlProblem(Mark(line, col), f"control character U+{char:04X} is not allowed in YAML",
                       "remove it; is this a binary file?")


def _scalar(node: ScalarNode) -> Any:
    """YAML 1.2 core schema for plain scalars; quoted scalars are always strings."""
    v = node.value
    if node.tag != "?":  # quoted, block, or explicitly tagged
        return _tagged_scalar(node) if node.tag.startswith(_STD) else v
    if v in _NULL:
        return None
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    if _INT.match(v):
        return int(v)
    if _OCT.match(v):
        return int(v[2:], 8)
    if _HEX.match(v):
        return int(v[2:], 16)
    if _FLOAT.match(v) and any(c.isdigit() for c in v):
        return float(v)
    if _INF.match(v):
        return float("-inf") if v.startswith("-") else float("inf")
    if _NAN.match(v):
        return float("nan")
    return v


def _tagged_scalar(node: ScalarNode) -> Any:
    tag = node.tag[len(_STD):]
    plain = _scalar(ScalarNode("?", node.value, node.start_mark, node.end_mark))
    if tag == "str":
        return node.value
    ok = {
        "int": isinstance(plain, int) and not isinstance(plain, bool),
        "float": isinstance(plain, int | float) and not isinstance(plain, bool),
        "bool": isinstance(plain, bool),
        "null": plain is None,
    }.get(tag, False)
    if not ok:
        raise YamlProblem(_mark(node.start_mark), f"{node.value!r} is not a valid !!{tag}")
    return float(plain) if tag == "float" else plain


class _Builder:
    def __init__(self, positions: Positions) -> None:
        self.positions = positions
        self.count = 0
        self.duplicates: list[YamlProblem] = []

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise YamlProblem(
                _mark(node.start_mark),
                f"the document expands to more than {MAX_VALUES} values",
                "anchors and aliases that multiply each other (a YAML alias bomb) are refused",
            )
        if depth > MAX_DEPTH:
            raise YamlProblem(
                _mark(node.start_mark),
                f"nesting deeper than {MAX_DEPTH} levels (or an alias that contains itself)",
            )
        self.positions.values.setdefault(path, _mark(node.start_mark))
        _check_tag(node)
        if isinstance(node, ScalarNode):
            return _scalar(node)
        if isinstance(node, SequenceNode):
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        raise YamlProblem(_mark(node.start_mark), "unsupported YAML node")

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, Mark] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == "?" and key_node.value == "<<":
                merged.update(self._merge(value_node, path, depth))
                continue
            if not isinstance(key_node, ScalarNode):
                raise YamlProblem(_mark(key_node.start_mark), "a mapping key must be a plain "
                                  "name, not a list or a mapping")
            # Keys stay text: `on:` is a probe field here, not YAML 1.1's boolean.
            key = key_node.value
            kmark = _mark(key_node.start_mark)
            if key in seen:
                first = seen[key]
                self.duplicates.append(
                    YamlProblem(
                        kmark,
                        f"duplicate key {key!r}: already set at line {first.line}",
                        "YAML keeps only one of them; remove or rename one",
                    )
                )
                continue
            seen[key] = kmark
            self.positions.keys[(*path, key)] = kmark
            result[key] = self.build(value_node, (*path, key), depth + 1)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge(self, node: Node, path: Path, depth: int) -> dict[str, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        out: dict[str, Any] = {}
        for src in sources:
            if not isinstance(src, MappingNode):
                raise YamlProblem(_mark(src.start_mark), "`<<` merges only mappings")
            for k, v in self._mapping(src, path, depth).items():
                out.setdefault(k, v)
        return out


@dataclass(frozen=True)
class LoadedYaml:
    data: Any
    positions: Positions
    problems: tuple[YamlProblem, ...]  # non-fatal: duplicate keys


def load_yaml(text: str) -> LoadedYaml:
    """Parse one YAML document; raises YamlProblem for a fatal error."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_problem(text, exc) from None
    try:
        node = loader.get_single_node()
    except YamlProblem:
        raise
    except yaml.reader.ReaderError as exc:
        raise _reader_problem(text, exc) from None
    except yaml.YAMLError as exc:
        raise _problem_from_yaml_error(exc) from None
    except RecursionError:
        raise YamlProblem(None, "nesting too deep to read") from None
    finally:
        loader.dispose()
    positions = Positions()
    if node is None:
        return LoadedYaml(None, positions, ())
    builder = _Builder(positions)
    data = builder.build(node, (), 0)
    return LoadedYaml(data, positions, tuple(builder.duplicates))
