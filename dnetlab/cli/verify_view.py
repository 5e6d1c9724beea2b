"""Verify results for people: the table, the raw output of what did not pass, the
summary line, and the live progress while probes run."""

from __future__ import annotations

import re
import sys
import threading
from typing import TYPE_CHECKING, TextIO

from dnetlab.verify.export import visible_escape
from dnetlab.verify.outcome import ProbeResult, Report, Status, StepResult

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID
    from rich.table import Table

# Raw output shown beneath the table per failed/errored probe unless verbose:
# the first and last half of this many lines, with a marker for what was left out.
OUTPUT_LINES = 20

_LABEL: dict[Status, tuple[str, str]] = {
    "passed": ("PASS", "green"),
    "failed": ("FAIL", "red"),
    "error": ("ERROR", "bold red"),
}

# On a terminal, also escape \r, DEL and the C1 controls (\x9b is a one-byte CSI):
# raw output from a container must not move the cursor or recolour the terminal.
_TERM_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")



def term_safe(text: str) -> str:
    """`text` with every control character but newline and tab made visible."""
    return _TERM_FORBIDDEN.sub(visible_escape, text.replace("\r\n", "\n"))



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
    from rich.text import Text

    if console is None:
        # Piped output keeps whole addresses rather than folding them at 80 columns.
        console = Console(width=None if sys.stdout.isatty() else 160)
    title = f"lab {term_safe(report.scenario)}"
    if report.results:
        console.print(_probe_table(title, report.results))
    else:
        console.print(Text(f"{title}: no probes"))
    _outputs(console, report.results, verbose)
    for n, step in enumerate(report.steps, 1):
        console.print()
        _step_section(console, n, step, verbose)
    if report.restored is not None:
        console.print()
        console.print(Text(f"afterwards: {term_safe(report.restored)}"), highlight=False)
    console.print()
    style = "green" if report.ok else "red"
    console.print(Text(summary_line(report), style=style), highlight=False)


_ACTION_LABEL = {"done": ("DONE", "green"), "failed": ("FAIL", "red"),
                 "not run": ("SKIP", "yellow")}


def _step_section(console: Console, n: int, step: StepResult, verbose: bool) -> None:
    """One step: its actions with their outcome, then its probes' table and outputs."""
    from rich.text import Text

    head = Text(f"step {n}: {term_safe(step.name)}", style="bold")
    head.append(f"  ({step.duration_s:.2f} s)", style="")
    console.print(head)
    for a in step.actions:
        label, style = _ACTION_LABEL.get(a.status, ("?", ""))
        line = Text("  ")
        line.append(label, style=style)
        line.append(f" {term_safe(a.description)}")
        if a.status != "done" and a.message:
            line.append(f": {term_safe(a.message)}")
        console.print(line, soft_wrap=True, highlight=False)
    if step.results:
        console.print(_probe_table(None, step.results))
        _outputs(console, step.results, verbose)


def _probe_table(title: str | None, results: tuple[ProbeResult, ...]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title) if title else None, title_justify="left")
    table.add_column("status")
    table.add_column("probe")
    table.add_column("expected")
    table.add_column("actual")
    table.add_column("duration", justify="right")
    for r in results:
        label, style = _LABEL[r.status]
        duration = f"{r.duration_s:.2f} s"
        if r.attempts > 1:
            duration += f" ({r.attempts} tries)"
        if r.recovered_after_s is not None:
            duration += f", recovered after {r.recovered_after_s:.2f} s"
        table.add_row(Text(label, style=style), Text(term_safe(r.name)),
                      Text(term_safe(r.expected)), Text(term_safe(r.actual)),
                      Text(duration))
    return table


def _outputs(console: Console, results: tuple[ProbeResult, ...], verbose: bool) -> None:
    """The raw output of every probe that did not pass, beneath its table."""
    from rich.text import Text

    for r in results:
        if r.status == "passed":
            continue
        label, style = _LABEL[r.status]
        head = Text()
        head.append(label, style=style)
        head.append(f" {term_safe(r.name)} (on {term_safe(r.runs_on)}): output")
        if r.capture is not None:
            head.append(f" (packets of a retry: {term_safe(r.capture)})")
        console.print()
        console.print(head)
        lines = _trimmed(r.output, verbose) if r.output.strip() else ["(no output)"]
        for line in lines:
            console.print(Text("    " + line), soft_wrap=True)


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

    def phase(self, title: str) -> None:
        """A new title for the bar (the step that runs now)."""
        with self.lock:
            self.title = title
            if self.progress is not None and self.task is not None:
                self.progress.update(self.task, description=title)

    def finish(self) -> None:
        with self.lock:
            if self.progress is not None:
                self.progress.stop()
            self.progress, self.task = None, None

    def __enter__(self) -> LiveProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()


