"""What rendering makes: the variables it takes and the rendered text with its line maps
back to the file (so that errors point at the line the user wrote)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from dnetlab.load.source import Source


@dataclass(frozen=True)
class Variables:
    """Template variables in order of precedence: defaults < vars file < --var."""

    cli: Mapping[str, str]
    files: tuple[str, ...] = ()
    # names besides DNETLAB_* that env() may read: a shared file must not read the user's
    # secrets (a token in the environment would reach engine URLs, records, messages)
    allow_env: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rendered:
    source: Source
    text: str
    # rendered line (1-based) -> the source line it stands at, where templating kept it
    line_map: Mapping[int, int]
    # rendered line -> the template line that produced it (a loop body, say)
    template_map: Mapping[int, int]


def _exact_map(source_text: str, rendered: str) -> dict[int, int]:
    """Rendered lines that stand as the user wrote them (or with expressions substituted
    in a block that kept its size), mapped to their line in the file."""
    a = source_text.splitlines()
    b = rendered.splitlines()
    if source_text == rendered or len(a) == len(b):
        # one more line: a parser error at the end of the text points past the last line
        return {i + 1: i + 1 for i in range(len(b) + 1)}
    result: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for k in range(j2 - j1):
                result[j1 + k + 1] = i1 + k + 1
    return result


_EXPR = re.compile(r"\{\{.*?\}\}")


def _template_map(source_text: str, rendered: str, exact: Mapping[int, int]) -> dict[int, int]:
    """For rendered lines a loop or conditional produced, the template line they came from.

    Each template line becomes a pattern (its `{{ }}` parts match anything); a rendered
    line matched by exactly one template line is mapped to it.
    """
    patterns: list[tuple[int, re.Pattern[str]]] = []
    for n, line in enumerate(source_text.splitlines(), 1):
        if "{%" in line or not line.strip():
            continue
        parts = _EXPR.split(line)
        patterns.append((n, re.compile("^" + ".*?".join(map(re.escape, parts)) + "$")))
    result: dict[int, int] = {}
    for n, line in enumerate(rendered.splitlines(), 1):
        if n in exact or not line.strip():
            continue
        hits = [src for src, pat in patterns if pat.match(line)]
        if len(hits) == 1:
            result[n] = hits[0]
    return result


def line_map(source_text: str, rendered: str) -> tuple[dict[int, int], dict[int, int]]:
    exact = _exact_map(source_text, rendered)
    return exact, _template_map(source_text, rendered, exact)
