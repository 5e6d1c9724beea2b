"""What the benchmarks share: timing a child process or a call, and keeping a side's
figures only when the whole side succeeded (the engine is shared: an attempt that
something else disturbed is discarded and run again)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def run_cli(cmd: list[str], cwd: Path, timeout: float | None = None) -> tuple[float, str, str]:
    """Seconds from spawn to exit, stdout, stderr; a non-zero exit raises with its output."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n"
                           f"{(proc.stdout + proc.stderr)[-3000:]}")
    return elapsed, proc.stdout, proc.stderr


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


class Samples:
    """Figures by key, over the rounds. A side adds to `pending`; `attempt` keeps them
    only if the side (and its check) succeeded."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.pending: dict[str, list[float]] = {}

    def add(self, key: str, seconds: float) -> None:
        self.pending.setdefault(key, []).append(seconds)

    def attempt(self, side: Callable[[], None], log: Callable[[str], None], tries: int = 3,
                check: Callable[[str], None] | None = None,
                recover: Callable[[], None] | None = None) -> None:
        """Run one side; a failed attempt is discarded (after `recover`, not timed) and
        the side run again, up to `tries` times."""
        for n in range(1, tries + 1):
            self.pending = {}
            try:
                side()
                if check is not None:
                    check(side.__name__)
            except Exception as exc:
                if n == tries:
                    raise
                lines = [ln for ln in str(exc).splitlines() if ln.strip()] or [repr(exc)]
                why = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1].strip()}"
                log(f"  {side.__name__}: attempt {n} discarded ({why})")
                if recover is not None:
                    recover()
                continue
            for key, values in self.pending.items():
                self.samples.setdefault(key, []).extend(values)
            return
