"""Problems found past the YAML stage, addressed by data path; positions come later."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field

from dnetlab.errors import MAX_SHOWN, Severity, cut
from dnetlab.load.patterns import problem
from dnetlab.load.yamlload import Path


@dataclass(frozen=True)
class Finding:
    path: Path
    message: str
    hint: str | None = None
    severity: Severity = "error"
    at_key: bool = False  # point at the key rather than at its value


class TooManyErrors(Exception):
    """More errors than one file reports: the checks stop there (see `Findings.limit`)."""


@dataclass
class Findings:
    items: list[Finding] = field(default_factory=list)
    # Errors past which `error` raises TooManyErrors: a file with 100,000 unknown names
    # is not fixed line by line, and each costs time to find and to word.
    limit: int | None = None
    errors: int = 0

    def error(self, path: Path, message: str, hint: str | None = None, *,
              at_key: bool = False) -> None:
        self.items.append(Finding(path, message, hint, "error", at_key))
        self.errors += 1
        if self.limit is not None and self.errors > self.limit:
            raise TooManyErrors

    def warning(self, path: Path, message: str, hint: str | None = None, *,
                at_key: bool = False) -> None:
        self.items.append(Finding(path, message, hint, "warning", at_key))

    def pattern(self, path: Path, pattern: str) -> None:
        """A regular expression at `path` must compile (see `patterns`)."""
        found = problem(pattern)
        if found is not None:
            self.error(path, *found)



_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dotted(path: Path) -> str:
    """`networks.lan.subnet`, `probes[2].to`; odd keys quoted: `containers["a b"]`; a key
    longer than a message quotes is cut (the path is for reading, not for lookup)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif len(part) <= MAX_SHOWN and _PLAIN_KEY.fullmatch(part):
            out += ("." if out else "") + part
        else:
            out += f"[{json.dumps(cut(part))}]"
    return out


# Names that are longer than this are no typo of a key (keys have at most 63 characters):
# comparing them would only cost time.
_MAX_SUGGESTED = 100


def did_you_mean(word: str, choices: list[str]) -> str | None:
    if len(word) > _MAX_SUGGESTED:
        return None
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None
