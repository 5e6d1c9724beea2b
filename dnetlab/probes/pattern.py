"""The regular expressions of a scenario (`file` `matches`, `exec` `stdout_matches`): one
engine for checking them when the file is loaded and for matching them against what a
container printed, so that a pattern that validates also runs.

The engine is the `regex` package in VERSION0 mode, which keeps Python `re`'s syntax and
semantics for the patterns `re` accepts, and adds what `re` lacks: a time bound on a
match. A catastrophic pattern (`^(a|a)+$` against `aaaa...!`) ran for minutes with `re`;
here it stops after `MATCH_TIMEOUT_S` and the probe is an error that says so. The bound
is on processor time (`regex` reads `clock()`), so on a busy machine the wall time of a
match that times out can be longer.

`regex` is imported inside the functions, as the other heavy libraries are, so that a
scenario without patterns never loads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import regex

MATCH_TIMEOUT_S = 1.0
# Compiling a pattern costs time and memory in proportion to its fixed repeat counts
# (`a{10000000}` takes 2.6 GB and 3 s to compile: `regex` lays the repeats out), and they
# multiply when nested. Up to this product the compile is cheap and done in place; past
# it the loader compiles the pattern in a child process with limits (load/patterns.py).
CHEAP_REPEAT_PRODUCT = 10_000
_COUNT = re.compile(r"\{\s*(\d*)\s*(?:,\s*(\d*)\s*)?\}")


def cheap_to_compile(pattern: str) -> bool:
    """True when the pattern surely compiles in little time and memory.

    Every `{m}`, `{m,}` and `{m,n}` anywhere in the text counts, even one inside a set or
    after a backslash: the product over-estimates, so a pattern judged cheap is cheap.
    """
    product = 1
    for m in _COUNT.finditer(pattern):
        product *= max(int(m.group(1) or 0), int(m.group(2) or 0), 1)
        if product > CHEAP_REPEAT_PRODUCT:
            return False
    return True


def compile_problem(pattern: str) -> str | None:
    """Why the pattern does not compile, in words; None when it does. A MemoryError is
    left to the caller, which knows the limit that was set (load/patterns.py)."""
    import regex

    try:
        _compiled(pattern)
    except regex.error as exc:
        return f"invalid regular expression: {exc}"
    except RecursionError:
        return "invalid regular expression: it nests too deeply"
    except MemoryError:
        raise
    # whatever else the engine raises for a pattern (OverflowError, ValueError for
    # conflicting inline flags, ...) is a problem of the pattern, not of dnetlab
    except Exception as exc:
        return f"invalid regular expression: {exc or type(exc).__name__}"
    return None


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> regex.Pattern[str]:
    import regex

    # VERSION0: `re`'s semantics; an inline (?V1) in the pattern conflicts and is refused
    return regex.compile(pattern, regex.VERSION0 | regex.MULTILINE)


@dataclass(frozen=True)
class Searched:
    """The first match of a pattern in a text, or why there is no verdict."""

    found: str | None  # the matched text; None when nothing matched (or `problem`)
    problem: str | None = None  # the pattern cannot be compiled, or took too long


def search(pattern: str, text: str, noun: str = "output") -> Searched:
    """The first match of `pattern` in `text` (`^` and `$` at every line), bounded in time.

    `noun` names the text in the message of a match that took too long ("output", "the
    file").
    """
    try:
        problem = compile_problem(pattern)
    except MemoryError:  # only a pattern that was never validated gets here
        problem = "the regular expression needs too much memory to compile"
    if problem is not None:
        return Searched(None, problem)
    try:
        # concurrent: the other threads of a verify run go on while this one matches
        m = _compiled(pattern).search(text, timeout=MATCH_TIMEOUT_S, concurrent=True)
    except TimeoutError:
        size = len(text.encode(errors="replace"))
        return Searched(None, f"the pattern took longer than {MATCH_TIMEOUT_S:g} s on "
                              f"{size} bytes of {noun}; simplify it")
    return Searched(m.group(0) if m else None)
