"""The validation pipeline: file -> rendered text -> YAML -> schema -> model -> semantics.

Each stage collects every problem it finds; the pipeline stops at the end of a stage that
found errors, because later stages would only repeat them in other words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dnetlab.errors import Issue, ScenarioInvalid
from dnetlab.load.asks import Ask, asks
from dnetlab.load.build import Broken, Builder
from dnetlab.load.findings import Finding, Findings, TooManyErrors, dotted
from dnetlab.load.limits import MAX_ISSUES, oversized
from dnetlab.load.render import render
from dnetlab.load.rendered import Rendered, Variables
from dnetlab.load.schema import SchemaIssue, check_all
from dnetlab.load.semantic import check as check_semantics
from dnetlab.load.source import Source, read_source
from dnetlab.load.steps import with_steps
from dnetlab.load.yamlload import Mark, Path, Positions, YamlProblem, load_yaml
from dnetlab.model import Scenario


@dataclass(frozen=True)
class Loaded:
    scenario: Scenario
    rendered: Rendered
    warnings: tuple[Issue, ...]
    asks: tuple[Ask, ...] = ()  # what the file asks of the machine (load/asks.py)
    ask_issues: tuple[Issue, ...] = ()  # the same, as located warnings
    # where each value stands in the file: for problems found after validation (a
    # preflight's), located as validation's are
    positions: Positions | None = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> str:
        return self.rendered.source.path

    def issue(self, path: Path, message: str, hint: str | None) -> Issue:
        """A problem at `path` of the file (its value; its key when it has no value)."""
        mark = None
        if self.positions is not None:
            mark = self.positions.of_value(path) or self.positions.of_key(path)
        return _Locator(self.rendered).issue(mark, dotted(path), message, hint)


class _Locator:
    """Turns a position in the rendered text into one in the file the user wrote."""

    def __init__(self, rendered: Rendered) -> None:
        self.rendered = rendered

    def issue(self, mark: Mark | None, path: str, message: str, hint: str | None,
              severity: Any = "error") -> Issue:
        file = self.rendered.source.path
        if mark is None:
            return Issue(file, None, None, path, message, hint, severity)
        src_line = self.rendered.line_map.get(mark.line)
        if src_line is not None:
            return Issue(file, src_line, mark.col, path, message, hint, severity)
        tpl_line = self.rendered.template_map.get(mark.line)
        if tpl_line is not None:
            return Issue(file, tpl_line, mark.col, path, message, hint, severity,
                         rendered_line=mark.line, template_line=True)
        return Issue(file, mark.line, mark.col, path, message, hint, severity,
                     rendered_line=mark.line)


def _finding_issue(loc: _Locator, positions: Positions, f: Finding) -> Issue:
    mark = positions.of_key(f.path) if f.at_key else positions.of_value(f.path)
    return loc.issue(mark, dotted(f.path), f.message, f.hint, f.severity)


def _broken(schema_issues: list[SchemaIssue]) -> Broken:
    found: dict[str, set[str]] = {"hosts": set(), "networks": set(), "containers": set()}
    probes: set[int] = set()
    steps: set[int] = set()
    step_probes: set[tuple[int, int]] = set()
    for i in schema_issues:
        if len(i.path) >= 2 and i.path[0] in found:
            found[str(i.path[0])].add(str(i.path[1]))
        if len(i.path) >= 2 and i.path[0] == "probes" and isinstance(i.path[1], int):
            probes.add(i.path[1])
        if len(i.path) >= 2 and i.path[0] == "steps" and isinstance(i.path[1], int):
            # a broken probe of a step leaves the step and its other probes whole
            if len(i.path) >= 4 and i.path[2] == "probes" and isinstance(i.path[3], int):
                step_probes.add((i.path[1], i.path[3]))
            else:
                steps.add(i.path[1])
    return Broken(hosts=frozenset(found["hosts"]), networks=frozenset(found["networks"]),
                  containers=frozenset(found["containers"]), probes=frozenset(probes),
                  field_paths=frozenset(i.path for i in schema_issues if len(i.path) > 2),
                  steps=frozenset(steps), step_probes=frozenset(step_probes))


def _section_has_wrong_type(schema_issues: list[SchemaIssue]) -> bool:
    """A whole section of the wrong type leaves nothing to build from."""
    sections = ("hosts", "networks", "containers", "probes", "steps")
    return any(len(i.path) == 1 and i.path[0] in sections for i in schema_issues)


def _invalid(loc: _Locator, issues: list[Issue], *, stopped: bool = False) -> ScenarioInvalid:
    """The file's issues, at most MAX_ISSUES errors of them (the first by position), and
    a line saying so when there were more or when the checks stopped early."""
    errors = sorted((i for i in issues if i.severity == "error"), key=lambda i: i.sort_key)
    if len(errors) <= MAX_ISSUES and not stopped:
        return ScenarioInvalid(issues)
    note = loc.issue(None, "", f"more than {MAX_ISSUES} errors: the first {MAX_ISSUES} are "
                     "shown and the checks stopped there", "fix these and validate again")
    return ScenarioInvalid([note, *errors[:MAX_ISSUES]])


def parse(rendered: Rendered, *, trusted: bool = False) -> Loaded:
    """Rendered text to a validated Scenario, or ScenarioInvalid with every issue.

    `trusted`: this exact text already passed the schema with this dnetlab version (it is
    what `up` recorded), so the schema check is skipped; the rest still runs.
    """
    loc = _Locator(rendered)
    try:
        loaded = load_yaml(rendered.text)
    except YamlProblem as p:
        raise ScenarioInvalid([loc.issue(p.mark, "", p.message, p.hint)]) from None
    issues = [loc.issue(p.mark, "", p.message, p.hint) for p in loaded.problems]
    if len(issues) > MAX_ISSUES:  # duplicate keys, each an error
        raise _invalid(loc, issues, stopped=True)
    data, positions = loaded.data, loaded.positions
    if data is None:
        raise ScenarioInvalid([*issues, loc.issue(None, "", "the file holds no YAML data "
                                                   "(only comments or templates that rendered "
                                                   "to nothing)", None)])
    if not isinstance(data, dict):
        raise ScenarioInvalid([*issues, loc.issue(Mark(1, 1) if positions.of_value(()) is None
                                                  else positions.of_value(()), "",
                                                  "the top level must be a mapping with "
                                                  "`version`, `name` and `containers`",
                                                  "see `dnetlab schema`")])
    # Sizes first: they bound the work of every stage after (load/limits.py).
    over = oversized(data)
    if over:
        raise _invalid(loc, [*issues, *(_finding_issue(loc, positions, f) for f in over)])
    checked = check_all(data, positions) if not trusted else None
    schema_issues = checked.issues if checked is not None else []
    issues += [loc.issue(i.mark, dotted(i.path), i.message, i.hint) for i in schema_issues]
    if checked is not None and checked.truncated:
        raise _invalid(loc, issues, stopped=True)
    if _section_has_wrong_type(schema_issues):
        raise _invalid(loc, issues)
    findings = Findings(limit=MAX_ISSUES - len([i for i in issues if i.severity == "error"]))
    try:
        builder = Builder(data, _broken(schema_issues), findings)
        sc = with_steps(builder, builder.scenario(rendered.source.path))
        check_semantics(sc, data, builder.broken, findings)
    except TooManyErrors:
        issues += [_finding_issue(loc, positions, f) for f in findings.items]
        raise _invalid(loc, issues, stopped=True) from None
    issues += [_finding_issue(loc, positions, f) for f in findings.items]
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise _invalid(loc, issues)
    found = asks(sc)
    located = tuple(loc.issue(positions.of_value(a.path), dotted(a.path), f"asks: {a.what}",
                              "approve with `dnetlab trust FILE` (or --trust for one run)",
                              "warning") for a in found)
    return Loaded(sc, rendered, tuple(issues), found, located, positions)


def load_source(source: Source, variables: Variables | None = None,
                trusted: Callable[[str], bool] | None = None) -> Loaded:
    rendered = render(source, variables)
    if trusted is not None and trusted(rendered.text):
        try:
            return parse(rendered, trusted=True)
        except Exception:  # whatever went wrong, the full check says it properly
            pass
    return parse(rendered)


def load(path: str, variables: Variables | None = None,
         trusted: Callable[[str], bool] | None = None) -> Loaded:
    """Read, render and validate a scenario file; no engine is contacted.

    `trusted(text)` may vouch for a rendered text validated before (see `parse`).
    """
    return load_source(read_source(path), variables, trusted)
