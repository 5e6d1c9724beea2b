"""Verify results for machines: JSON and JUnit XML, and writing them to a file.

The table for people is `dnetlab.cli.verify_view`.

The machine-readable shapes are part of the CLI contract (spec section 9) and stable.

JSON (`to_json`, `json_text`), keys in this order::

    {
      "scenario": "demo",
      "summary": {"total": 3, "passed": 1, "failed": 1, "errors": 1, "duration_s": 2.345},
      "probes": [
        {"name": "ping a1 -> b1", "type": "ping", "status": "passed",
         "expected": "...", "actual": "...", "output": "<raw command output>",
         "duration_s": 0.812, "runs_on": "a1", "attempts": 1},
        ...
      ]
    }

`status` is one of `passed`, `failed`, `error` (the probe could not run); durations are
seconds rounded to milliseconds; `output` is the raw command output, unchanged (JSON
escapes what needs escaping); probes keep the order in which they were declared.

JUnit XML (`to_junit`), UTF-8 with an XML declaration::

    <testsuites name="dnetlab verify" tests= failures= errors= time=>
      <testsuite name="SCENARIO" tests= failures= errors= skipped="0" time= timestamp=>
        <testcase name="PROBE" classname="dnetlab.SCENARIO.TYPE" time=>
          <failure message="expected X, got Y" type="failed">expected: X ...</failure>
          <!-- or <error message="ACTUAL" type="error">...</error> -->
          <system-out>raw output</system-out>
        </testcase>
      </testsuite>
    </testsuites>

With `verify --steps` the JSON object also has `steps` (after `probes`) and `restored`::

      "steps": [
        {"name": "c2 leaves net1", "status": "passed", "duration_s": 3.1,
         "actions": [{"action": "disconnect c2 from net1", "kind": "disconnect",
                      "status": "done", "message": "...", "duration_s": 0.21}],
         "probes": [{... as above, "recovered_after_s": 2.4}]}
      ],
      "restored": "restored to its declared state: 2 change(s) in 1.20 s"

A step's `status` is `passed` when every action was done and every probe passed, else
`failed`; an action's is `done`, `failed` or `not run` (an earlier action failed, or the
run was interrupted). Every probe object has `recovered_after_s`: in a step, the seconds
from the end of its actions to the try that passed when the first try had failed; else
null. `summary` counts the steps' probes too. With `verify --capture-failed DIR`, a failed
probe's object also has `capture`: the pcap file of its source container, taken while
the probe was tried once more (in JUnit: a `capture of a retry: PATH` line of the
failure's text). In JUnit each step is a `testsuite` of its
own, named `SCENARIO / step N: NAME`, with a testcase per action (`do: ACTION`, failing
when it failed) and per probe.

`timestamp` is the start of the run in UTC, without a zone (`2024-05-01T12:00:00`), as the
JUnit schema wants. `system-out` is left out when a probe printed nothing. Characters
that XML 1.0 forbids (most C0 controls such as NUL and ESC, U+FFFE/U+FFFF, lone
surrogates) are written as visible escapes (`\\x1b`, `\\x00`), so the file always parses;
line endings are normalised to `\\n`, as an XML parser would do anyway.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dnetlab.verify.outcome import ActionResult, ProbeResult, Report, StepResult

# XML 1.0 allows \t \n \r and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

def visible_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def xml_safe(text: str) -> str:
    """`text` with line endings normalised and XML-forbidden characters made visible."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _XML_FORBIDDEN.sub(visible_escape, text)


def _seconds(value: float) -> float:
    return round(max(value, 0.0), 3)


# --- JSON ---------------------------------------------------------------------------------


def _probe_json(r: ProbeResult) -> dict[str, Any]:
    return {
        "name": r.name,
        "type": r.type,
        "status": r.status,
        "expected": r.expected,
        "actual": r.actual,
        "output": r.output,
        "duration_s": _seconds(r.duration_s),
        "runs_on": r.runs_on,
        "attempts": r.attempts,
        "recovered_after_s": (None if r.recovered_after_s is None
                              else _seconds(r.recovered_after_s)),
        **({"capture": r.capture} if r.capture is not None else {}),
    }


def _action_json(a: ActionResult) -> dict[str, Any]:
    return {"action": a.description, "kind": a.kind, "status": a.status,
            "message": a.message, "duration_s": _seconds(a.duration_s)}


def _step_json(s: StepResult) -> dict[str, Any]:
    return {"name": s.name, "status": "passed" if s.ok else "failed",
            "duration_s": _seconds(s.duration_s),
            "actions": [_action_json(a) for a in s.actions],
            "probes": [_probe_json(r) for r in s.results]}


def to_json(report: Report) -> dict[str, Any]:
    """The report as the documented JSON object (see the module docstring for the shape)."""
    out: dict[str, Any] = {
        "scenario": report.scenario,
        "summary": {
            "total": len(report.results) + sum(len(s.results) for s in report.steps),
            "passed": report.count("passed"),
            "failed": report.count("failed"),
            "errors": report.count("error"),
            "duration_s": _seconds(report.duration_s),
        },
        "probes": [_probe_json(r) for r in report.results],
    }
    if report.steps or report.restored is not None:
        out["steps"] = [_step_json(st) for st in report.steps]
        out["restored"] = report.restored
    return out


def json_text(report: Report) -> str:
    """`to_json` as indented JSON text, ending in a newline; non-ASCII is kept as is."""
    return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"


# --- JUnit XML ----------------------------------------------------------------------------


def _details(r: ProbeResult) -> str:
    lines = [f"expected: {r.expected}", f"actual: {r.actual}", f"runs on: {r.runs_on}"]
    if r.attempts != 1:
        lines.append(f"attempts: {r.attempts}")
    if r.recovered_after_s is not None:
        lines.append(f"recovered after: {r.recovered_after_s:.2f} s")
    if r.capture is not None:
        lines.append(f"capture of a retry: {r.capture}")
    return "\n".join(lines)


def to_junit(report: Report, timestamp: datetime | None = None) -> str:
    """The report as JUnit XML text (see the module docstring for the shape).

    `timestamp` is when the run started; by default now minus the run's duration.
    """
    start = timestamp or datetime.now(UTC) - timedelta(seconds=max(report.duration_s, 0.0))
    if start.tzinfo is not None:
        start = start.astimezone(UTC).replace(tzinfo=None)
    total_time = f"{_seconds(report.duration_s):.3f}"
    static = _Suite(report.scenario, report.results, (), report.duration_s)
    suites = [static, *(_Suite(f"{report.scenario} / step {n}: {st.name}", st.results,
                               st.actions, st.duration_s)
                        for n, st in enumerate(report.steps, 1))]
    totals = {"tests": str(sum(s.tests for s in suites)),
              "failures": str(sum(s.failures for s in suites)),
              "errors": str(sum(s.errors for s in suites))}
    root = ET.Element("testsuites", {"name": "dnetlab verify", **totals, "time": total_time})
    stamp = start.isoformat(timespec="seconds")
    for s in suites:
        if s is static or s.tests:
            _suite_xml(root, report.scenario, s, stamp)
    ET.indent(root, space="  ")  # only touches whitespace around elements, never their text
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


@dataclass(frozen=True)
class _Suite:
    name: str
    results: tuple[ProbeResult, ...]
    actions: tuple[ActionResult, ...]
    duration_s: float

    @property
    def tests(self) -> int:
        return len(self.results) + len(self.actions)

    @property
    def failures(self) -> int:
        return (sum(1 for r in self.results if r.status == "failed")
                + sum(1 for a in self.actions if a.status == "failed"))

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if r.status == "error")

    @property
    def skipped(self) -> int:
        return sum(1 for a in self.actions if a.status == "not run")


def _suite_xml(root: ET.Element, scenario: str, s: _Suite, stamp: str) -> None:
    suite = ET.SubElement(root, "testsuite", {
        "name": xml_safe(s.name), "tests": str(s.tests), "failures": str(s.failures),
        "errors": str(s.errors), "skipped": str(s.skipped),
        "time": f"{_seconds(s.duration_s):.3f}", "timestamp": stamp})
    for a in s.actions:
        case = ET.SubElement(suite, "testcase", {
            "name": xml_safe(f"do: {a.description}"),
            "classname": xml_safe(f"dnetlab.{scenario}.action.{a.kind}"),
            "time": f"{_seconds(a.duration_s):.3f}"})
        if a.status == "failed":
            ET.SubElement(case, "failure", {"message": xml_safe(a.message),
                                            "type": "failed"}).text = xml_safe(a.message)
        elif a.status == "not run":
            ET.SubElement(case, "skipped", {"message": xml_safe(a.message)})
    for r in s.results:
        case = ET.SubElement(suite, "testcase", {
            "name": xml_safe(r.name),
            "classname": xml_safe(f"dnetlab.{scenario}.{r.type}"),
            "time": f"{_seconds(r.duration_s):.3f}"})
        if r.status == "failed":
            node = ET.SubElement(case, "failure", {
                "message": xml_safe(f"expected {r.expected}, got {r.actual}"), "type": "failed"})
            node.text = xml_safe(_details(r))
        elif r.status == "error":
            node = ET.SubElement(case, "error", {"message": xml_safe(r.actual or "could not run"),
                                                 "type": "error"})
            node.text = xml_safe(_details(r))
        if r.output:
            ET.SubElement(case, "system-out").text = xml_safe(r.output)


# --- files --------------------------------------------------------------------------------


def write_output(text: str, path: str | os.PathLike[str]) -> None:
    """Write `text` (UTF-8, line endings as given) to `path`, creating its directories."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", errors="backslashreplace", newline="") as f:
        f.write(text)
