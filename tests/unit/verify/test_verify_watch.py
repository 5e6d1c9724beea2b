"""Watched step probes: tried on their own every WATCH_INTERVAL_S, a slow failing try not
delaying the next, so `recovered_after_s` is close to when the outage really ended.

The batches run in a local shell (a fake engine): what is tested is the timing logic; the
real engine shows it in tests/integration/test_steps.py and bench `recovered_after_s`.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

from dnetlab.engine.errors import EngineError
from dnetlab.engine.exec import ExecResult
from dnetlab.load.pipeline import load_source
from dnetlab.load.source import Source
from dnetlab.reconcile.observed import LiveContainer
from dnetlab.verify.runner import WATCH_INTERVAL_S, LiveLab, Verifier, resolve_all
from dnetlab.verify.targets import LiveAddresses


class Engine:
    """Runs every batch in a local shell, as `docker exec` would in the container."""

    runs_execs_over_ssh = False
    conn = SimpleNamespace(url="unix:///fake")

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()
        self.outage_ended_s: float | None = None  # when the flag was made, from `since`

    def exec(self, container: str, argv: list[str], *, user: str = "") -> ExecResult:
        with self.lock:
            self.calls += 1
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        return ExecResult(done.returncode, done.stdout + done.stderr)

    def exec_many(self, jobs: Sequence[object], parallel: int) -> list[ExecResult | EngineError]:
        raise AssertionError("local engine: one exec per try")


def _run(tmp: Path, probe: str, outage_s: float) -> tuple[object, Engine]:
    flag = tmp / "up"
    text = f"""version: 1
name: watch
containers:
  a: {{image: busybox}}
probes: []
steps:
  - name: s
    do: [sleep: 0]
    probes:
      - {probe.replace("FLAG", str(flag))}
"""
    sc = load_source(Source("watch.yaml", text)).scenario
    live = LiveContainer(id="a" * 12, name="watch-a", image="busybox", state="running",
                         labels=(), network_mode="default", endpoints=())
    lab = LiveLab({"a": live}, LiveAddresses({"a": {}}))
    engine = Engine()
    verifier = Verifier(sc, {"local": engine}, lab)  # type: ignore[dict-item]
    since = time.monotonic()

    def end_outage() -> None:
        # the timer's thread may run late on a loaded machine: the outage ends when it does
        engine.outage_ended_s = time.monotonic() - since
        flag.touch()

    timer = threading.Timer(outage_s, end_outage)
    timer.start()
    try:
        [result] = verifier.run(resolve_all(sc, lab, sc.steps[0].probes), since=since)
    finally:
        timer.cancel()  # an outage longer than the test: its flag must not outlive it
    return result, engine


def test_recovered_after_is_within_a_quarter_second_of_the_outage(tmp_path: Path) -> None:
    r, engine = _run(tmp_path, '{type: exec, on: a, command: "test -e FLAG", within: 10}', 1.5)
    assert r.status == "passed"  # type: ignore[attr-defined]
    rec, end = r.recovered_after_s, engine.outage_ended_s  # type: ignore[attr-defined]
    # a try started just before the flag was made may see it: `test` runs a moment later
    assert rec is not None and end is not None and end >= 1.5
    assert end - 0.1 <= rec <= end + WATCH_INTERVAL_S + 0.15, (rec, end)
    assert r.attempts > 3  # type: ignore[attr-defined]


def test_a_slow_failing_try_does_not_delay_the_next(tmp_path: Path) -> None:
    # each failing try hangs 2 s (as nc -w 2 to a paused container): rounds would report
    # about 2 s; watched tries start every interval regardless
    probe = ('{type: exec, on: a, command: "sh -c \'test -e FLAG || { sleep 2; exit 1; }\'", '
             'within: 10}')
    r, engine = _run(tmp_path, probe, 1.0)
    rec, end = r.recovered_after_s, engine.outage_ended_s  # type: ignore[attr-defined]
    assert r.status == "passed" and rec is not None  # type: ignore[attr-defined]
    assert end is not None and end - 0.1 <= rec <= end + WATCH_INTERVAL_S + 0.15, (rec, end)


def test_a_probe_that_holds_at_once_reports_no_recovery(tmp_path: Path) -> None:
    r, _engine = _run(tmp_path, '{type: exec, on: a, command: "true", within: 5}', 0.0)
    assert r.status == "passed"  # type: ignore[attr-defined]
    assert r.recovered_after_s is None and r.attempts == 1  # type: ignore[attr-defined]


def test_a_probe_that_never_holds_fails_when_within_is_up(tmp_path: Path) -> None:
    started = time.monotonic()
    r, engine = _run(tmp_path, '{type: exec, on: a, command: "false", within: 1}', 30.0)
    took = time.monotonic() - started
    assert r.status == "failed" and r.recovered_after_s is None  # type: ignore[attr-defined]
    assert 1.0 <= took < 2.5
    # one try per interval, not a flood
    assert 1.0 / WATCH_INTERVAL_S - 1 <= engine.calls <= 1.0 / WATCH_INTERVAL_S + 2
