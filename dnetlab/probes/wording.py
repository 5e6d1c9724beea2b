"""How verdicts are worded, for the checks of several probe types. Pure.

`expected` and `actual` are short words for a table: a failed verdict names what was
asked for and what was seen (`expected "1 hop"`, `actual "3 hops: 10.70.0.1 10.71.0.1
10.71.0.20"`). For the probes with several fields, a failed verdict shows only the parts
that failed; a passed one shows them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dnetlab.probes import pattern
from dnetlab.probes.base import Verdict


@dataclass(frozen=True)
class Part:
    """One field's share of a verdict."""

    expected: str
    actual: str
    ok: bool
    error: bool = False  # could not be judged (a pattern that took too long): not ok


def combine(parts: Sequence[Part], expected_if_none: str, actual_if_none: str) -> Verdict:
    if not parts:
        return Verdict(True, expected_if_none, actual_if_none)
    failed = [p for p in parts if not p.ok or p.error]
    shown = failed or list(parts)
    return Verdict(not failed, "; ".join(p.expected for p in shown),
                   "; ".join(p.actual for p in shown), error=any(p.error for p in parts))


SHOWN_DIFFERENCES = 6  # entries of a `same_as` difference named in a report; then "N more"


def differences(here: Sequence[str], there: Sequence[str], where: str) -> str:
    """What two listings (a container's, and the same read at `where`) do not share:
    "only here: a, b; only on host:local: c". Empty when they are the same set."""
    only_here = [x for x in here if x not in set(there)]
    only_there = [x for x in there if x not in set(here)]
    said = []
    for what, items in (("only here", only_here), (f"only on {where}", only_there)):
        if items:
            more = len(items) - SHOWN_DIFFERENCES
            said.append(f"{what}: {', '.join(items[:SHOWN_DIFFERENCES])}"
                        + (f" and {more} more" if more > 0 else ""))
    return "; ".join(said)


def pct(value: float) -> str:
    return f"{value:g}%"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def quoted(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


def names(items: Iterable[str]) -> str:
    return ", ".join(items) or "none"


def text_parts(text: str, contains: Sequence[str], matches: str | None,
               absent: Sequence[str], what: str) -> list[Part]:
    """`contains`, `matches` and `absent` against a text: a file's, or a command's output."""
    parts = [Part(f"{what} contains {quoted(t)}",
                  f"{what} {'contains' if t in text else 'lacks'} {quoted(t)}", t in text)
             for t in contains]
    if matches is not None:
        # bounded in time: a pattern that backtracks without end makes an error, not a hang
        m = pattern.search(matches, text, "output" if what == "output" else f"the {what}")
        if m.problem is not None:
            parts.append(Part(f"{what} matches /{matches}/", m.problem, False, error=True))
        else:
            parts.append(Part(f"{what} matches /{matches}/",
                              f"{what} matches: {quoted(m.found)}" if m.found is not None
                              else f"no match for /{matches}/", m.found is not None))
    parts += [Part(f"{what} without {quoted(t)}",
                   f"{what} has {quoted(t)}" if t in text else f"{what} without {quoted(t)}",
                   t not in text) for t in absent]
    return parts
