"""Position-aware YAML loading.

PyYAML's own loaders lose positions, silently keep the last of duplicate keys and follow
YAML 1.1 (where `on`, `yes` and `no` are booleans and `22:22` is a number). Scenario files
need the opposite on each point, so this module builds the values from the parser's
events itself, resolves scalars by YAML 1.2's core schema, and records the position of
every key and value.

Scanning and parsing are libyaml's (PyYAML's C parser) when it is there: PyYAML's pure
Python parser reads about 250 KB a second, so a file near the 1 MiB limit took seconds
before any check ran. Values are built straight from the events, without
PyYAML's node graph (composing it cost five times the parse), so that nesting, count and
size are bounded as they grow; an alias adds its anchor's counts at once, without being
walked again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from yaml.composer import ComposerError
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from dnetlab.errors import shown

_CParser: Any
try:  # libyaml, bundled with PyYAML's wheels
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    _CParser = None

Path = tuple[str | int, ...]

MAX_DEPTH = 64  # a real scenario nests about 6 deep
MAX_VALUES = 200_000  # values after alias expansion: stops "billion laughs" files
# Characters of keys and scalars after alias expansion. Without aliases they are at most
# the text itself (at most the rendered-text limit); an alias repeats a long value
# without writing it again, and each repeat is checked and may be quoted in a message.
MAX_EXPANDED_CHARS = 4 * 1024 * 1024
# Duplicate keys kept as problems: the pipeline reports at most 200 errors (limits.py)
# and stops when there are more; one more than that says so.
MAX_DUPLICATES_KEPT = 200
_BOMB_HINT = "anchors and aliases that multiply each other (a YAML alias bomb) are refused"

# What YAML allows in a stream (PyYAML's Reader refuses the rest); checked here before
# parsing, for both parsers alike, with the position in the text.
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                            "\U00010000-\U0010FFFF]")

_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(inf|Inf|INF)$")
_NAN = re.compile(r"^\.(nan|NaN|NAN)$")
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


class Mark(NamedTuple):  # a tuple: one is made for every key and value of the file
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


_DEEP_HINT = ("a scenario nests a handful of levels; this looks like a broken or hostile "
              "file")


class _Loader(Reader, Scanner, Parser):
    """PyYAML's pure Python parser, where libyaml is missing: events only."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


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


_NO_CHARACTER = "found character that cannot start any token"


def _character_at(text: str, mark: Any) -> str | None:
    lines = text.split("\n", mark.line + 1)
    if mark.line < len(lines) and mark.column < len(lines[mark.line]):
        return str(lines[mark.line][mark.column])
    return None


def _problem_from_yaml_error(exc: yaml.YAMLError, source: str) -> YamlProblem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if "maximum nesting depth" in str(problem):
        # libyaml's own limit (1000 levels), met while it looks ahead in a flow
        # collection, before the composer counts 64
        return YamlProblem(_mark(mark) if mark is not None else None,
                           f"nesting deeper than {MAX_DEPTH} levels", _DEEP_HINT)
    if problem == _NO_CHARACTER and mark is not None:
        # libyaml does not name the character; PyYAML's wording does, and the hints
        # below read it (a tab)
        char = _character_at(source, mark)
        if char is not None:
            problem = f"found character {char!r} that cannot start any token"
    if "end of stream" in str(problem) and getattr(exc, "context_mark", None) is not None:
        mark = exc.context_mark  # type: ignore[attr-defined]  # where the quote was opened
    context = getattr(exc, "context", None)
    text = f"{context}: {problem}" if context else str(problem)
    if len(text) > 500:  # a libyaml message may quote the text at the mark
        text = text[:500] + "..."
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


def _check_tag(tag: str, mark: Any) -> None:
    if tag not in _ALLOWED_TAGS:
        raise YamlProblem(
            _mark(mark),
            f"unsupported YAML tag {shown(tag.replace(_STD, '!!'))}",
            "scenario files use plain YAML values only; remove the `!` tag",
        )


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> YamlProblem:
    pos = exc.position
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or " ")
    return YamlProblem(Mark(line, col), f"control character U+{char:04X} is not allowed in YAML",
                       "remove it; is this a binary file?")


def _number(v: str, base: int, mark: Any) -> int:
    try:
        return int(v, base)
    except ValueError:  # past Python's 4300 digits: no value of a scenario is that long
        raise YamlProblem(_mark(mark), f"the number {shown(v)} has too many digits",
                          "quote it if it is text") from None


def _scalar(tag: str, v: str, mark: Any) -> Any:
    """YAML 1.2 core schema for plain scalars; quoted scalars are always strings."""
    if tag != "?":  # quoted, block, or explicitly tagged
        return _tagged_scalar(tag, v, mark) if tag.startswith(_STD) else v
    if v in _WORDS:
        return _WORDS[v]
    if v[0] not in _NUMBER_START:
        return v
    if _INT.fullmatch(v):
        return _number(v, 10, mark)
    if _OCT.fullmatch(v):
        return _number(v[2:], 8, mark)
    if _HEX.fullmatch(v):
        return _number(v[2:], 16, mark)
    if _FLOAT.fullmatch(v) and any(c.isdigit() for c in v):
        return float(v)
    if _INF.fullmatch(v):
        return float("-inf") if v.startswith("-") else float("inf")
    if _NAN.fullmatch(v):
        return float("nan")
    return v


def _tagged_scalar(full_tag: str, v: str, mark: Any) -> Any:
    tag = full_tag[len(_STD):]
    if tag == "str":
        return v
    plain = _scalar("?", v, mark)
    ok = {
        "int": isinstance(plain, int) and not isinstance(plain, bool),
        "float": isinstance(plain, int | float) and not isinstance(plain, bool),
        "bool": isinstance(plain, bool),
        "null": plain is None,
    }.get(tag, False)
    if not ok:
        raise YamlProblem(_mark(mark), f"{shown(v)} is not a valid !!{shown(tag)[1:-1]}")
    return float(plain) if tag == "float" else plain


# First characters of the plain scalars that may be something other than text.
_MAYBE_SPECIAL = frozenset("0123456789+-.~nNtTfF")
_NUMBER_START = frozenset("0123456789+-.")
_WORDS: dict[str, Any] = {**dict.fromkeys(_NULL), **dict.fromkeys(_TRUE, True),
                          **dict.fromkeys(_FALSE, False)}
_STR_TAG = _STD + "str"
_SEQ_TAG = _STD + "seq"
_MAP_TAG = _STD + "map"

_Log = list[tuple[Path, Mark]]


@dataclass
class _Anchor:
    """An anchored value, built once; an alias to it reuses the value and adds its counts
    and positions at the alias's place, without building it again.

    Its positions stay where they were logged, a slice of the builder's logs, and are
    made relative (and its height found) only when an alias needs them: anchors nested
    60 deep around 150,000 values would otherwise copy them 60 times."""

    value: Any
    kind: type  # ScalarEvent, SequenceStartEvent or MappingStartEvent
    mark: Any  # the parser's mark, for the parser's own messages
    tag: str
    raw: str | None  # a scalar's text, for use as a mapping key
    count: int = 0  # values in it, itself included
    chars: int = 0  # characters of its keys and scalars
    done: bool = False  # False while it is being built: an alias to it contains itself
    depth: int = 0  # length of its own path, stripped from the logged ones
    values_log: _Log = field(default_factory=list)
    values_span: tuple[int, int] = (0, 0)
    keys_log: _Log = field(default_factory=list)
    keys_span: tuple[int, int] = (0, 0)
    _height: int | None = None

    def value_positions(self) -> _Log:
        """Positions of the values inside it, by path relative to it."""
        n = self.depth
        return [(p[n:], m) for p, m in self.values_log[slice(*self.values_span)]]

    def key_positions(self) -> _Log:
        n = self.depth
        return [(p[n:], m) for p, m in self.keys_log[slice(*self.keys_span)]]

    def height(self) -> int:
        """Levels below it: every value inside has a position, so the longest path."""
        if self._height is None:
            longest = max((len(p) for p, _ in self.values_log[slice(*self.values_span)]),
                          default=self.depth)
            self._height = longest - self.depth
        return self._height


@dataclass
class _Open:
    """An anchor being built: where its positions start in the builder's logs."""

    path: Path
    values_from: int
    keys_from: int
    count_from: int
    chars_from: int


class _EventBuilder:
    """Values from parser events, with positions, bounded in depth, count and size."""

    def __init__(self, parser: Any, positions: Positions) -> None:
        self.get = parser.get_event
        self.peek = parser.peek_event
        self.positions = positions
        self.count = 0
        self.chars = 0
        self.duplicates: list[YamlProblem] = []
        self.anchors: dict[str, _Anchor] = {}
        self.open: list[_Open] = []
        # positions written while an anchor is open, for the anchor to replay
        self.values_log: _Log = []
        self.keys_log: _Log = []

    # -- limits ----------------------------------------------------------------------------
    def _add(self, values: int, chars: int, mark: Any) -> None:
        self.count += values
        if self.count > MAX_VALUES:
            raise YamlProblem(_mark(mark), f"the document expands to more than {MAX_VALUES} "
                              "values", _BOMB_HINT)
        self.chars += chars
        if self.chars > MAX_EXPANDED_CHARS:
            raise YamlProblem(
                _mark(mark),
                f"the document expands to more than {MAX_EXPANDED_CHARS} characters of keys "
                "and values",
                "anchors and aliases that repeat long values (a YAML alias bomb) are refused",
            )

    # -- positions -------------------------------------------------------------------------
    def _value_at(self, path: Path, mark: Mark) -> None:
        self.positions.values.setdefault(path, mark)
        if self.open:
            self.values_log.append((path, mark))

    def _key_at(self, path: Path, mark: Mark) -> None:
        self.positions.keys[path] = mark
        if self.open:
            self.keys_log.append((path, mark))

    def _replay(self, values: _Log, keys: _Log, path: Path, strip: int = 0) -> None:
        """Positions relative to an anchor, at `path`; `strip` drops leading parts of
        their paths (the items of a sequence merged with `<<`)."""
        for rel, m in values:
            self._value_at((*path, *rel[strip:]), m)
        for rel, m in keys:
            self._key_at((*path, *rel[strip:]), m)

    # -- the document ----------------------------------------------------------------------
    def document(self) -> Any:
        self.get()  # stream start
        if isinstance(self.peek(), StreamEndEvent):
            return None
        start = self.get()  # document start
        value = self.node((), 0)
        self.get()  # document end
        if not isinstance(self.peek(), StreamEndEvent):
            event = self.get()
            raise ComposerError("expected a single document in the stream", start.start_mark,
                                "but found another document", event.start_mark)
        return value

    def _alias(self, event: Any) -> _Anchor:
        a = self.anchors.get(event.anchor)
        if a is None:
            raise ComposerError(None, None, f"found undefined alias {shown(event.anchor)}",
                                event.start_mark)
        return a

    def node(self, path: Path, depth: int) -> Any:
        event = self.get()
        if event.__class__ is ScalarEvent and event.anchor is None and depth < MAX_DEPTH:
            # the common case, kept short: a file near the size limit has 200,000 of them
            tag = event.tag
            if tag is None or tag == "!":
                tag = "?" if event.implicit[0] else _STR_TAG
            m: Any = event.start_mark
            if tag not in _ALLOWED_TAGS:
                _check_tag(tag, m)
            value = event.value
            self.count += 1
            self.chars += len(value)
            if self.count > MAX_VALUES or self.chars > MAX_EXPANDED_CHARS:
                self._add(0, 0, m)  # raises, with the limit's own message
            mark = Mark(m.line + 1, m.column + 1)
            values = self.positions.values
            if path not in values:
                values[path] = mark
            if self.open:
                self.values_log.append((path, mark))
            if tag == "?" and value and value[0] not in _MAYBE_SPECIAL:
                return value  # plain text: no null, boolean or number starts so
            return _scalar(tag, value, m)
        return self._node(event, path, depth)

    def _node(self, event: Any, path: Path, depth: int) -> Any:
        if isinstance(event, AliasEvent):
            a = self._aliased(event, depth)
            _check_tag(a.tag, a.mark)  # an anchored key is checked only when used as a value
            self._replay(a.value_positions(), a.key_positions(), path)
            return a.value
        if depth >= MAX_DEPTH:
            raise YamlProblem(_mark(event.start_mark), f"nesting deeper than {MAX_DEPTH} "
                              "levels", _DEEP_HINT)
        anchor = event.anchor
        if anchor is not None:
            if anchor in self.anchors:
                raise ComposerError(f"found duplicate anchor {shown(anchor)}; first "
                                    "occurrence", self.anchors[anchor].mark,
                                    "second occurrence", event.start_mark)
            self.open.append(_Open(path, len(self.values_log), len(self.keys_log),
                                   self.count, self.chars))
            # registered before its content, so that an alias inside it is found (and
            # refused) rather than reported as undefined
            self.anchors[anchor] = _Anchor(None, type(event), event.start_mark, "", None)
        self._add(1, 0, event.start_mark)
        self._value_at(path, _mark(event.start_mark))
        tag = event.tag
        raw = None
        if isinstance(event, ScalarEvent):
            if tag is None or tag == "!":
                tag = "?" if event.implicit[0] else _STR_TAG
            _check_tag(tag, event.start_mark)
            self._add(0, len(event.value), event.start_mark)
            raw = event.value
            value = _scalar(tag, raw, event.start_mark)
        else:
            if tag is None or tag == "!":
                tag = _SEQ_TAG if isinstance(event, SequenceStartEvent) else _MAP_TAG
            _check_tag(tag, event.start_mark)
            if isinstance(event, SequenceStartEvent):
                value = self._sequence(path, depth)
            else:
                value = self._mapping(path, depth)
        if anchor is not None:
            self._close(anchor, value, tag, raw)
        return value

    def _close(self, anchor: str, value: Any, tag: str, raw: str | None) -> None:
        o = self.open.pop()
        a = self.anchors[anchor]
        a.value, a.tag, a.raw, a.done = value, tag, raw, True
        a.depth = len(o.path)
        # the logs are kept, not cleared, while the document is read: each anchor's
        # positions are a slice of them (at most the values' limit in all)
        a.values_log, a.values_span = self.values_log, (o.values_from, len(self.values_log))
        a.keys_log, a.keys_span = self.keys_log, (o.keys_from, len(self.keys_log))
        a.count = self.count - o.count_from
        a.chars = self.chars - o.chars_from

    def _sequence(self, path: Path, depth: int) -> list[Any]:
        items: list[Any] = []
        while not isinstance(self.peek(), SequenceEndEvent):
            items.append(self.node((*path, len(items)), depth + 1))
        self.get()
        return items

    def _key(self, event: Any) -> tuple[str, str, Any]:
        """A mapping key from its event: its text, its tag and its parser mark."""
        if isinstance(event, AliasEvent):
            a = self._alias(event)
            if a.raw is None:
                raise YamlProblem(_mark(a.mark), "a mapping key must be a plain name, not a "
                                  "list or a mapping")
            return a.raw, a.tag, a.mark
        if not isinstance(event, ScalarEvent):
            raise YamlProblem(_mark(event.start_mark), "a mapping key must be a plain name, "
                              "not a list or a mapping")
        tag = event.tag
        if tag is None or tag == "!":
            tag = "?" if event.implicit[0] else _STR_TAG
        if event.anchor is not None:  # `&k key: ...`: `*k` may stand for it later
            self._register_key(event, tag)
        return event.value, tag, event.start_mark

    def _register_key(self, event: Any, tag: str) -> None:
        anchor = event.anchor
        if anchor in self.anchors:
            raise ComposerError(f"found duplicate anchor {shown(anchor)}; first occurrence",
                                self.anchors[anchor].mark, "second occurrence",
                                event.start_mark)
        value = _scalar(tag, event.value, event.start_mark) if tag in _ALLOWED_TAGS else None
        self.anchors[anchor] = _Anchor(value, ScalarEvent, event.start_mark, tag, event.value,
                                       count=1, chars=len(event.value), done=True,
                                       values_log=[((), _mark(event.start_mark))],
                                       values_span=(0, 1))

    def _mapping(self, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, Mark] = {}
        merged: dict[str, Any] = {}
        keys = self.positions.keys
        mark: Any
        while True:
            event = self.get()
            if event.__class__ is MappingEndEvent:
                break
            if event.__class__ is ScalarEvent and event.tag is None and event.anchor is None:
                key, mark = event.value, event.start_mark  # the common case, kept short
                plain = event.implicit[0]
            else:
                key, tag, mark = self._key(event)
                plain = tag == "?"
            if plain and key == "<<":
                merged.update(self._merge(path, depth))
                continue
            # Keys stay text: `on:` is a probe field here, not YAML 1.1's boolean.
            self.chars += len(key)
            if self.chars > MAX_EXPANDED_CHARS:
                self._add(0, 0, mark)  # raises, with the limit's own message
            kmark = Mark(mark.line + 1, mark.column + 1)
            if key in seen:
                first = seen[key]
                # past the limit of reported errors the file stops after this stage:
                # the rest need not be made
                if len(self.duplicates) <= MAX_DUPLICATES_KEPT:
                    self.duplicates.append(
                        YamlProblem(
                            kmark,
                            f"duplicate key {shown(key)}: already set at line {first.line}",
                            "YAML keeps only one of them; remove or rename one",
                        )
                    )
                self._skip(depth)
                continue
            seen[key] = kmark
            at = (*path, key)
            keys[at] = kmark
            if self.open:
                self.keys_log.append((at, kmark))
            result[key] = self.node(at, depth + 1)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _skip(self, depth: int) -> None:
        """Past the value of a duplicate key (the first one is kept): it is read and
        bounded as any other, and an anchor in it may be used, but it leaves no position
        and no trace in the anchors around it."""
        event = self.peek()
        if event.__class__ is ScalarEvent and event.anchor is None and event.tag is None:
            self.get()  # the common case, `key: value` written twice: only counted
            self._add(1, len(event.value), event.start_mark)
            return
        kept = (self.positions, self.values_log, self.keys_log, self.open)
        self.positions, self.values_log, self.keys_log, self.open = Positions(), [], [], []
        try:
            self.node(("<duplicate>",), depth + 1)
        finally:
            self.positions, self.values_log, self.keys_log, self.open = kept

    def _merge(self, path: Path, depth: int) -> dict[str, Any]:
        """`<<: *a`, `<<: {..}` or `<<: [*a, *b]`: the keys of the mappings, the first
        one's winning, built at the merging mapping's own path."""
        event = self.peek()
        sources: list[dict[str, Any]] = []
        if isinstance(event, AliasEvent):
            self.get()
            a = self._aliased(event, depth)
            if a.kind is SequenceStartEvent:  # an anchored list of mappings
                values: dict[Any, _Log] = {}  # by item
                keys: dict[Any, _Log] = {}
                for rel, m in a.value_positions():
                    values.setdefault(rel[:1], []).append((rel, m))
                for rel, m in a.key_positions():
                    keys.setdefault(rel[:1], []).append((rel, m))
                for i, item in enumerate(a.value):
                    if not isinstance(item, dict):
                        raise YamlProblem(_mark(a.mark), "`<<` merges only mappings")
                    sources.append(item)
                    self._replay(values.get((i,), []), keys.get((i,), []), path, strip=1)
            elif a.kind is MappingStartEvent:
                sources.append(a.value)
                self._replay(a.value_positions(), a.key_positions(), path)
            else:
                raise YamlProblem(_mark(event.start_mark), "`<<` merges only mappings")
        elif isinstance(event, SequenceStartEvent):
            self.get()
            while not isinstance(self.peek(), SequenceEndEvent):
                sources.append(self._merge_source(path, depth))
            self.get()
        else:
            sources.append(self._merge_source(path, depth))
        out: dict[str, Any] = {}
        for src in sources:
            for k, v in src.items():
                out.setdefault(k, v)
        return out

    def _aliased(self, event: Any, depth: int) -> _Anchor:
        """The anchor an alias at `depth` names, once its counts are added: they are
        checked before its positions are looked at, so that the work an alias costs
        stays within the limits."""
        a = self._alias(event)
        if not a.done:
            raise YamlProblem(_mark(event.start_mark), f"nesting deeper than {MAX_DEPTH} "
                              "levels (or an alias that contains itself)")
        self._add(a.count, a.chars, event.start_mark)
        if depth + a.height() > MAX_DEPTH:
            raise YamlProblem(_mark(event.start_mark), f"nesting deeper than {MAX_DEPTH} "
                              "levels (or an alias that contains itself)")
        return a

    def _merge_source(self, path: Path, depth: int) -> dict[str, Any]:
        event = self.peek()
        if isinstance(event, AliasEvent):
            self.get()
            a = self._aliased(event, depth)
            if a.kind is not MappingStartEvent:
                raise YamlProblem(_mark(a.mark), "`<<` merges only mappings")
            self._replay(a.value_positions(), a.key_positions(), path)
            return dict(a.value)
        if not isinstance(event, MappingStartEvent):
            raise YamlProblem(_mark(event.start_mark), "`<<` merges only mappings")
        self.get()
        if event.anchor is not None:  # an anchor on an inline merge source: build it apart
            raise YamlProblem(_mark(event.start_mark), "an anchor inside `<<` is not "
                              "supported", "anchor the mapping where it is first written")
        return self._mapping(path, depth)


@dataclass(frozen=True)
class LoadedYaml:
    data: Any
    positions: Positions
    problems: tuple[YamlProblem, ...]  # non-fatal: duplicate keys


def _control_character(text: str) -> YamlProblem | None:
    m = _NON_PRINTABLE.search(text)
    if m is None:
        return None
    pos = m.start()
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return YamlProblem(Mark(line, col), f"control character U+{ord(m.group()):04X} is not "
                       "allowed in YAML", "remove it; is this a binary file?")


def load_yaml(text: str) -> LoadedYaml:
    """Parse one YAML document; raises YamlProblem for a fatal error."""
    problem = _control_character(text)
    if problem is not None:
        raise problem
    try:
        parser: Any = _Loader(text) if _CParser is None else _CParser(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_problem(text, exc) from None
    positions = Positions()
    builder = _EventBuilder(parser, positions)
    try:
        data = builder.document()
    except YamlProblem:
        raise
    except yaml.reader.ReaderError as exc:
        raise _reader_problem(text, exc) from None
    except yaml.YAMLError as exc:
        raise _problem_from_yaml_error(exc, text) from None
    except RecursionError:
        raise YamlProblem(None, "nesting too deep to read") from None
    finally:
        parser.dispose()
    return LoadedYaml(data, positions, tuple(builder.duplicates))
