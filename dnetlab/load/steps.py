"""Stage 4, continued: the `steps:` of schema-valid data to `Step`s and their `Action`s
(spec 10.3).

A step's probes are built as the top-level ones are (`Builder.probe`), located at their
place in the step; `{use: NAME}` is a top-level probe run again, with another `expect`,
`within` or `name` when given. Steps whose own fields failed the schema are left out, as
broken entries are (`Broken.steps`); the walk through the steps' states
(`load/timeline.py`) stops before the first of them.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any, get_args

from dnetlab.errors import shown
from dnetlab.load import impairment
from dnetlab.load.build import Builder, parse_ipv4, unique_names
from dnetlab.load.findings import did_you_mean
from dnetlab.load.schema import schema
from dnetlab.load.yamlload import Path
from dnetlab.model import Action, ActionKind, Scenario, Step
from dnetlab.probes.fields import argv
from dnetlab.probes.registry import KINDS, Probe

ACTION_KINDS: frozenset[str] = frozenset(get_args(ActionKind))
# the actions that name only a container: `pause: c1` or `pause: {container: c1}`
CONTAINER_ACTIONS = frozenset({"pause", "unpause", "stop", "start", "restart", "kill"})
_IMPAIR_FIELDS = ("rate", "loss", "delay", "jitter")
# Top-level probe names listed when an unknown `use` has no close match.
MAX_LISTED = 10
# Comparisons of unknown `use` names with known ones (difflib), as in semantic.py: past
# this many, hints list names instead (thousands of each would take minutes).
SUGGESTION_BUDGET = 200_000


@cache
def expect_values(probe_type: str) -> tuple[str, ...]:
    """The values `expect` takes for a probe type, as its schema says; () when it takes no
    `expect`. One source: the schema the file was checked against."""
    definition = schema()["$defs"].get(f"probe_{probe_type}", {})
    return tuple(definition.get("properties", {}).get("expect", {}).get("enum", ()))


def with_steps(b: Builder, sc: Scenario) -> Scenario:
    """`sc` with the file's steps; `sc.probes` are the top-level probes a `use` names."""
    raw = b.data.get("steps")
    if not isinstance(raw, list) or not raw:
        return sc
    return replace(sc, steps=_StepBuilder(b, sc.probes).steps(raw))


class _StepBuilder:
    def __init__(self, b: Builder, top: tuple[Probe, ...]) -> None:
        self.b = b
        self.out = b.out
        self.by_name: dict[str, Probe] = {}
        for p in top:  # names are unique but for a `name:` given twice (semantic says so)
            self.by_name.setdefault(p.name, p)
        self.names = list(self.by_name)
        self.suggestions_left = SUGGESTION_BUDGET

    def steps(self, raw: list[Any]) -> tuple[Step, ...]:
        return tuple(self.step(i, v) for i, v in enumerate(raw)
                     if i not in self.b.broken.steps and isinstance(v, dict))

    def step(self, i: int, v: dict[str, Any]) -> Step:
        p: Path = ("steps", i)
        within = float(v.get("within", 0))
        actions = tuple(a for j, item in enumerate(v["do"])
                        if (a := self.action((*p, "do", j), j, item)) is not None)
        probes: list[Probe] = []
        for j, pv in enumerate(v.get("probes") or ()):
            if (i, j) in self.b.broken.step_probes or not isinstance(pv, dict):
                continue
            at: Path = (*p, "probes", j)
            if "use" in pv:
                used = self.use(at, j, pv, within if "within" in v else None)
                if used is not None:
                    probes.append(used)
            else:
                probes.extend(self.b.probe(j, pv, at, within))
        return Step(name=str(v["name"]), index=i, actions=actions,
                    probes=unique_names(probes), within=within)

    # -- actions -------------------------------------------------------------------------
    def action(self, at: Path, j: int, item: Any) -> Action | None:
        """None for an item the schema refused (not one known key) or whose fields this
        reported."""
        if not isinstance(item, dict) or len(item) != 1:
            return None
        ((kind, body),) = item.items()
        if kind not in ACTION_KINDS:
            return None
        ap: Path = (*at, kind)
        if kind == "sleep":
            return Action("sleep", j, seconds=float(body))
        if kind == "exec":
            command = argv(body["command"], (*ap, "command"), self.out)
            if command is None:
                return None
            if not command:
                self.out.error((*ap, "command"), "the command is empty",
                               "write the program and its arguments")
                return None
            return Action("exec", j, on=str(body["on"]), command=command)
        if kind in CONTAINER_ACTIONS:
            container = body if isinstance(body, str) else body["container"]
            return Action(kind, j, container=str(container))
        container, network = str(body["container"]), str(body["network"])
        if kind == "connect":
            ipv4 = None
            if "ipv4" in body:
                ipv4 = parse_ipv4(body["ipv4"], (*ap, "ipv4"), self.out)
                if ipv4 is None:
                    return None
            return Action("connect", j, container=container, network=network, ipv4=ipv4)
        if kind == "impair":
            # the fields and checks of an attachment's `impair`, beside container/network
            imp = impairment.parse({k: body[k] for k in _IMPAIR_FIELDS if k in body}, ap,
                                   self.out)
            if imp is None:
                return None
            return Action("impair", j, container=container, network=network, impair=imp)
        return Action(kind, j, container=container, network=network)  # disconnect, heal

    # -- `use` ---------------------------------------------------------------------------
    def use(self, at: Path, j: int, v: dict[str, Any], step_within: float | None) -> (
            Probe | None):
        """The top-level probe `v["use"]` names, with this item's changes; located at
        `at` (its `index` is its place in the step's list)."""
        if not self.b.count(at, 1, 1):  # a probe run again counts as another
            return None
        name = str(v["use"])
        base = self.by_name.get(name)
        if base is None:
            self.out.error((*at, "use"), f"no top-level probe is named {shown(name)}",
                           self._hint(name))
            return None
        changes: dict[str, Any] = {"index": j}
        if "expect" in v:
            allowed = expect_values(base.type)
            if not allowed:
                takers = ", ".join(t for t in KINDS if expect_values(t))
                self.out.error((*at, "expect"), f"probe {shown(base.name)} is of type "
                               f"{base.type}, which takes no `expect`",
                               f"only these probe types take one: {takers}")
                return None
            if v["expect"] not in allowed:
                self.out.error((*at, "expect"), f"{shown(v['expect'])} is not an expect of a "
                               f"{base.type} probe such as {shown(base.name)}",
                               f"use one of {', '.join(allowed)}")
                return None
            changes["expect"] = v["expect"]
        if "within" in v:
            changes["within"] = float(v["within"])
        elif step_within is not None:
            changes["within"] = step_within
        if "name" in v:
            changes["name"] = str(v["name"])
            changes["name_given"] = True
        return replace(base, **changes)

    def _hint(self, name: str) -> str:
        if not self.names:
            return "the file has no top-level probes: write the probe here in full"
        hint = None
        if self.suggestions_left > 0:
            self.suggestions_left -= len(self.names) + 50
            hint = did_you_mean(name, self.names)
        if hint is None:
            listed = ", ".join(shown(n) for n in self.names[:MAX_LISTED])
            more = len(self.names) - MAX_LISTED
            hint = f"top-level probes: {listed}" + (f" and {more} more" if more > 0 else "")
        return hint
