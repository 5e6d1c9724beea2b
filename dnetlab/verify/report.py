"""Rendering of verify results: a table for people, JSON and JUnit XML for machines.

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
import sys
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from dnetlab.verify.outcome import ProbeResult, Report, Status

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

# Raw output shown beneath the table per failed/errored probe unless verbose:
# the first and last half of this many lines, with a marker for what was left out.
OUTPUT_LINES = 20

_LABEL: dict[Status, tuple[str, str]] = {
    "passed": ("PASS", "green"),
    "failed": ("FAIL", "red"),
    "error": ("ERROR", "bold red"),
}

# XML 1.0 allows \t \n \r and everything from U+0020 except surrogates, U+FFFE and U+FFFF.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# On a terminal, also escape \r, DEL and the C1 controls (\x9b is a one-byte CSI):
# raw output from a container must not move the cursor or recolour the terminal.
_TERM_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def xml_safe(text: str) -> str:
    """`text` with line endings normalised and XML-forbidden characters made visible."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _XML_FORBIDDEN.sub(_visible, text)


def term_safe(text: str) -> str:
    """`text` with every control character but newline and tab made visible."""
    return _TERM_FORBIDDEN.sub(_visible, text.replace("\r\n", "\n"))


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
    }


def to_json(report: Report) -> dict[str, Any]:
    """The report as the documented JSON object (see the module docstring for the shape)."""
    return {
        "scenario": report.scenario,
        "summary": {
            "total": len(report.results),
            "passed": report.count("passed"),
            "failed": report.count("failed"),
            "errors": report.count("error"),
            "duration_s": _seconds(report.duration_s),
        },
        "probes": [_probe_json(r) for r in report.results],
    }


def json_text(report: Report) -> str:
    """`to_json` as indented JSON text, ending in a newline; non-ASCII is kept as is."""
    return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"


# --- JUnit XML ----------------------------------------------------------------------------


def _details(r: ProbeResult) -> str:
    lines = [f"expected: {r.expected}", f"actual: {r.actual}", f"runs on: {r.runs_on}"]
    if r.attempts != 1:
        lines.append(f"attempts: {r.attempts}")
    return "\n".join(lines)


def to_junit(report: Report, timestamp: datetime | None = None) -> str:
    """The report as JUnit XML text (see the module docstring for the shape).

    `timestamp` is when the run started; by default now minus the run's duration.
    """
    start = timestamp or datetime.now(UTC) - timedelta(seconds=max(report.duration_s, 0.0))
    if start.tzinfo is not None:
        start = start.astimezone(UTC).replace(tzinfo=None)
    counts = {"tests": str(len(report.results)), "failures": str(report.count("failed")),
              "errors": str(report.count("error"))}
    total_time = f"{_seconds(report.duration_s):.3f}"

    root = ET.Element("testsuites", {"name": "dnetlab verify", **counts, "time": total_time})
    suite = ET.SubElement(root, "testsuite", {
        "name": xml_safe(report.scenario), **counts, "skipped": "0", "time": total_time,
        "timestamp": start.isoformat(timespec="seconds")})
    for r in report.results:
        case = ET.SubElement(suite, "testcase", {
            "name": xml_safe(r.name),
            "classname": xml_safe(f"dnetlab.{report.scenario}.{r.type}"),
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
    ET.indent(root, space="  ")  # only touches whitespace around elements, never their text
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


# --- terminal -----------------------------------------------------------------------------


def summary_line(report: Report) -> str:
    """`N passed, N failed, N errors in X.XX s`: the shape CI log scrapers recognise."""
    return (f"{report.count('passed')} passed, {report.count('failed')} failed, "
            f"{report.count('error')} errors in {max(report.duration_s, 0.0):.2f} s")


def _trimmed(output: str, verbose: bool) -> list[str]:
    lines = term_safe(output).rstrip("\n").split("\n")
    if verbose or len(lines) <= OUTPUT_LINES:
        return lines
    head = OUTPUT_LINES // 2
    tail = OUTPUT_LINES - head
    hidden = len(lines) - head - tail
    return [*lines[:head], f"... {hidden} lines left out (-v shows all) ...", *lines[-tail:]]


def print_table(report: Report, console: Console | None = None, verbose: bool = False) -> None:
    """The results as a table, the raw output of what did not pass, and a summary line."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if console is None:
        # Piped output keeps whole addresses rather than folding them at 80 columns.
        console = Console(width=None if sys.stdout.isatty() else 160)
    if report.results:
        table = Table(title=Text(f"lab {term_safe(report.scenario)}"), title_justify="left")
        table.add_column("status")
        table.add_column("probe")
        table.add_column("expected")
        table.add_column("actual")
        table.add_column("duration", justify="right")
        for r in report.results:
            label, style = _LABEL[r.status]
            duration = f"{r.duration_s:.2f} s"
            if r.attempts > 1:
                duration += f" ({r.attempts} tries)"
            table.add_row(Text(label, style=style), Text(term_safe(r.name)),
                          Text(term_safe(r.expected)), Text(term_safe(r.actual)),
                          Text(duration))
        console.print(table)
    else:
        console.print(Text(f"lab {term_safe(report.scenario)}: no probes"))
    for r in report.results:
        if r.status == "passed":
            continue
        label, style = _LABEL[r.status]
        head = Text()
        head.append(label, style=style)
        head.append(f" {term_safe(r.name)} (on {term_safe(r.runs_on)}): output")
        console.print()
        console.print(head)
        lines = _trimmed(r.output, verbose) if r.output.strip() else ["(no output)"]
        for line in lines:
            console.print(Text("    " + line), soft_wrap=True)
    console.print()
    style = "green" if report.ok else "red"
    console.print(Text(summary_line(report), style=style), highlight=False)


class LiveProgress:
    """A progress bar while probes run, on a terminal only; silent otherwise.

    `start(total, title)` (title as shown, e.g. "verifying lab demo"), then `result()`
    once per finished probe, from any thread, then `finish()`. Calls before `start` or
    after `finish` are ignored, and `finish` may be called more than once.
    """

    def __init__(self, stream: TextIO | None = None, console: Console | None = None) -> None:
        from rich.console import Console

        if console is None:
            console = Console(file=stream or sys.stderr, stderr=stream is None)
        self.console = console
        self.enabled = console.is_terminal
        self.lock = threading.Lock()
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.title = ""
        self.total = 0
        self.done = 0
        self.failed = 0

    def start(self, total: int, title: str) -> None:
        with self.lock:
            self.title, self.total, self.done, self.failed = title, total, 0, 0
            if not self.enabled or self.progress is not None:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TextColumn("done"),
                                     console=self.console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(title, total=total)

    def result(self, result: ProbeResult) -> None:
        with self.lock:
            self.done += 1
            if result.status != "passed":
                self.failed += 1
            if self.progress is None or self.task is None:
                return
            description = self.title
            if self.failed:
                description += f" ({self.failed} not passed)"
            self.progress.update(self.task, advance=1, description=description)

    def finish(self) -> None:
        with self.lock:
            if self.progress is not None:
                self.progress.stop()
            self.progress, self.task = None, None

    def __enter__(self) -> LiveProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()


# --- files --------------------------------------------------------------------------------


def write_output(text: str, path: str | os.PathLike[str]) -> None:
    """Write `text` (UTF-8, line endings as given) to `path`, creating its directories."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", errors="backslashreplace", newline="") as f:
        f.write(text)
