"""User-facing errors: located issues in scenario files, and failures with an exit code.

Anything a user can cause ends in a `DnetlabError`; the CLI prints it and exits with its
code. Any other exception is a bug and shows a traceback only with `--debug`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from enum import IntEnum
from typing import Literal

Severity = Literal["error", "warning"]

MAX_SHOWN = 80  # characters of a user's value quoted in a message
# Past these, a message is cut whatever it holds: a value some check quoted whole (a
# 900 KB string) must not come out whole, nor take a terminal's scrollback.
_MAX_RUN = 160  # characters without a space
_MAX_PART = 2000  # characters of a message or of a hint
_LONG_RUN = re.compile(rf"\S{{{_MAX_RUN + 1},}}")


def cut(text: str, limit: int = MAX_SHOWN) -> str:
    """`text`, or its first `limit` characters, `...` and its full length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """A user's value as a message quotes it: repr'd (so control characters, bidi
    overrides and zero-width characters show as escapes), and cut past `limit`."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def _bounded(text: str) -> str:
    text = _LONG_RUN.sub(lambda m: cut(m.group(0)), text)
    return cut(text, _MAX_PART)


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # the operation ran and failed (a probe failed, an apply step failed)
    USAGE = 2  # bad usage or an invalid scenario; nothing was changed
    ENVIRONMENT = 3  # engine or SSH unreachable, a preflight check failed


@dataclass(frozen=True)
class Issue:
    """One problem found in a scenario file, located as precisely as we can."""

    file: str
    line: int | None  # 1-based; None when the problem concerns the whole file
    col: int | None  # 1-based
    path: str  # dotted data path such as "networks.lan.subnet"; "" for the whole file
    message: str
    hint: str | None = None
    severity: Severity = "error"
    # Set when templating moved the line: the line in the rendered text. Then `line` is
    # the template line that produced it, or (template_line=False) that rendered line.
    rendered_line: int | None = None
    template_line: bool = False

    def format(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        else:
            where += ":1:1"
        path = cut(self.path or "(file)", _MAX_PART)
        text = _bounded(self.message)
        if self.severity == "warning":
            text = f"warning: {text}"
        if self.hint:
            text += f"; {_bounded(self.hint)}"
        if self.rendered_line is not None:
            how = (
                f"this template line produced line {self.rendered_line} of the rendered text"
                if self.template_line
                else f"line {self.rendered_line} of the rendered text: templating moved it"
            )
            text += f" ({how}; see `dnetlab render {shlex.quote(self.file)}`)"
        return _printable(f"{where}: {path}: {text}")

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line or 0, self.col or 0, self.path)


def _printable(text: str) -> str:
    # One issue is one line: control characters from the file would break it (or a terminal).
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class DnetlabError(Exception):
    """A failure the user can act on; carries its exit code."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(DnetlabError):
    exit_code = ExitCode.USAGE


class EnvironmentFailure(DnetlabError):
    exit_code = ExitCode.ENVIRONMENT


class ScenarioInvalid(DnetlabError):
    """The scenario has errors; every issue found is carried, not only the first."""

    exit_code = ExitCode.USAGE

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = sorted(issues, key=lambda i: i.sort_key)
        errors = [i for i in self.issues if i.severity == "error"]
        super().__init__(f"{len(errors)} error(s) in scenario")
