"""Progress of long work: a live display on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from typing import Protocol, TextIO


class Reporter(Protocol):
    def start(self, total: int, title: str) -> None: ...
    def step_done(self, line: str, ok: bool) -> None: ...
    def note(self, line: str) -> None: ...
    def finish(self) -> None: ...


class PlainReporter:
    """One line per finished step: for logs, CI and pipes."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.total = 0
        self.done = 0
        self.lock = threading.Lock()

    def start(self, total: int, title: str) -> None:
        self.total, self.done = total, 0
        if not self.quiet:
            print(title, file=self.stream, flush=True)

    def step_done(self, line: str, ok: bool) -> None:
        with self.lock:
            self.done += 1
            if not self.quiet or not ok:
                mark = "ok" if ok else "FAILED"
                print(f"  [{self.done}/{self.total}] {mark:6} {line}", file=self.stream,
                      flush=True)

    def note(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def finish(self) -> None:
        pass


class LiveReporter:
    """A rich progress bar on a terminal; failures are printed above it."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.console = Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), console=self.console, transient=True)
        self.task: object = None
        self.started = 0.0

    def start(self, total: int, title: str) -> None:
        self.started = time.monotonic()
        self.progress.start()
        self.task = self.progress.add_task(title, total=total)

    def step_done(self, line: str, ok: bool) -> None:
        if not ok:
            self.console.print(f"[red]FAILED[/red] {line}", markup=True, highlight=False)
        self.progress.advance(self.task)  # type: ignore[arg-type]

    def note(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False)

    def finish(self) -> None:
        self.progress.stop()


def reporter_for(stream: TextIO | None = None, quiet: bool = False) -> Reporter:
    s = stream or sys.stderr
    if s.isatty() and not quiet:
        return LiveReporter()
    return PlainReporter(s, quiet)
