"""The sizes a scenario may have past the YAML stage, checked before the schema.

Each limit is far above what a lab needs and low enough that any file under the size
limit is checked in under 2 s; all of them are in docs/scenario-format.md ("Limits").
They are counted on the raw data, before anything is built from it: a `from`/`to` list
of 600 containers in both made 359,400 probes (35 s) before this.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from dnetlab.load.findings import Finding

MAX_ENTRIES = 10_000  # hosts, networks, containers: each section
MAX_PROBES = 10_000  # after `from`/`to` lists expand; a step's probes count too
MAX_ACTIONS = 10_000  # in all steps together
MAX_ISSUES = 200  # errors reported for one file; past them the checks stop


def probe_pairs(raw: Any) -> tuple[int, int]:
    """How many sources and targets a probe entry expands to: its `from` and `to`, a list
    or one value (absent: one), as the builder reads them."""
    def count(v: Any) -> int:
        return len(v) if isinstance(v, list) and v else 1

    if not isinstance(raw, dict):
        return 1, 1
    return count(raw.get("from")), count(raw.get("to"))


def too_many_probes(sources: int, targets: int, before: int) -> Finding | None:
    """The error for an entry of `sources` x `targets` probes after `before` others, or
    None while they stay within MAX_PROBES."""
    n = sources * targets
    if before + n <= MAX_PROBES:
        return None
    made = f"{sources} x {targets} = {n}" if n > 1 else "1"
    return Finding((), f"the probes expand to more than {MAX_PROBES}: this one makes {made}, "
                   f"after {before} before it",
                   "a `from` or `to` list makes a probe for every pair; list fewer "
                   "containers, or split the lab", at_key=True)


def oversized(data: dict[str, Any]) -> list[Finding]:
    """A located error for each section with more entries than its limit."""
    found: list[Finding] = []
    for section in ("hosts", "networks", "containers"):
        entries = data.get(section)
        if isinstance(entries, dict) and len(entries) > MAX_ENTRIES:
            first_over = next(islice(entries, MAX_ENTRIES, None))
            found.append(Finding((section, first_over),
                                 f"more than {MAX_ENTRIES} {section} in one scenario",
                                 "split the lab, or check what generated this file",
                                 at_key=True))
    # every list of probes: the top-level one, then each step's, in file order
    lists: list[tuple[Any, tuple[str | int, ...]]] = [(data.get("probes"), ("probes",))]
    steps = data.get("steps")
    steps = steps if isinstance(steps, list) else []
    lists += [(s.get("probes"), ("steps", i, "probes")) for i, s in enumerate(steps)
              if isinstance(s, dict)]
    total = 0
    for probes, at in lists:
        if not isinstance(probes, list):
            continue
        over = None
        for i, raw in enumerate(probes):
            sources, targets = probe_pairs(raw)
            over = too_many_probes(sources, targets, total)
            if over is not None:
                found.append(Finding((*at, i), over.message, over.hint, at_key=True))
                break
            total += sources * targets
        if over is not None:
            break
    actions = 0
    for i, s in enumerate(steps):
        do = s.get("do") if isinstance(s, dict) else None
        if isinstance(do, list):
            if actions + len(do) > MAX_ACTIONS:
                found.append(Finding(("steps", i, "do", MAX_ACTIONS - actions),
                                     f"more than {MAX_ACTIONS} actions in the steps of one "
                                     "scenario", "split the steps into several scenarios, or "
                                     "check what generated this file", at_key=True))
                break
            actions += len(do)
    return found
