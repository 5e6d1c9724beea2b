"""Field syntax that several probe types share when they are built.

A container's `command` splits like an exec probe's, so the loader takes `argv` from here
too (load imports this package; the reverse would be a cycle).
"""

from __future__ import annotations

import re
import shlex

from dnetlab.probes.base import FieldErrors, Path


def argv(value: str | list[str] | None, path: Path, out: FieldErrors) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    try:
        return tuple(shlex.split(value))
    except ValueError as exc:
        out.error(path, f"cannot split the command like a shell would: {exc}",
                  "close the quote, or give the command as a list")
        return None


def check_regex(pattern: str | None, path: Path, out: FieldErrors) -> None:
    if pattern is None:
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        out.error(path, f"invalid regular expression: {exc}")
    except (RecursionError, OverflowError):  # Python's parser recurses per group
        out.error(path, "invalid regular expression: nested too deeply")


def strings(v: str | list[str] | None) -> tuple[str, ...]:
    """One string or a list of them, as a tuple."""
    if v is None:
        return ()
    return (v,) if isinstance(v, str) else tuple(v)
