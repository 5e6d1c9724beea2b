"""A host whose engine stops answering in the middle of verify: its probes are errors that
say so, the other hosts' verdicts stand, and the report lists the host (exit 3)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from dnetlab.engine.errors import EngineError, EngineUnreachable
from dnetlab.engine.exec import ExecResult
from dnetlab.engine.hostexec import Job
from dnetlab.load.pipeline import load_source
from dnetlab.load.source import Source
from dnetlab.reconcile.observed import LiveContainer
from dnetlab.verify.runner import LiveLab, Verifier, resolve_all
from dnetlab.verify.targets import LiveAddresses

LAB = """version: 1
name: lost
hosts:
  one: {engine: "ssh://root@10.99.0.1"}
  three: {engine: "ssh://root@10.99.0.3"}
containers:
  a: {host: one, image: busybox}
  c: {host: three, image: busybox}
probes:
  - {name: a-ok, type: exec, on: a, command: [sh, -c, "echo fine"], stdout_contains: fine}
  - {name: a-fails, type: exec, on: a, command: [sh, -c, "exit 3"]}
  - {name: c-ok, type: exec, on: c, command: [sh, -c, "echo fine"], within: 30}
  - {name: c-again, type: exec, on: c, command: [sh, -c, "exit 1"], within: 30}
"""


class Engine:
    """Runs the batches in a local shell (`one`), or has lost its host (`three`)."""

    runs_execs_over_ssh = True

    def __init__(self, key: str) -> None:
        self.key = key
        self.calls = 0
        self.conn = SimpleNamespace(url=f"ssh://root@{key}.example")

    def exec_many(self, jobs: Sequence[Job], parallel: int) -> list[ExecResult | EngineError]:
        self.calls += 1
        if self.key == "three":
            return [EngineUnreachable("host three: docker exec over SSH: the SSH connection "
                                      "was lost before the host replied") for _ in jobs]
        out: list[ExecResult | EngineError] = []
        for job in jobs:
            done = subprocess.run(["sh", "-c", job.script], capture_output=True, text=True,
                                  check=False)
            out.append(ExecResult(done.returncode, done.stdout + done.stderr))
        return out

    def run_helper(self, *args: Any, **kwargs: Any) -> ExecResult:
        raise AssertionError("no helper may be tried on a lost host")


def _live(key: str) -> LiveContainer:
    return LiveContainer(key, f"lost-{key}", "busybox", "running", (), "default", ())


def test_a_lost_host_errors_its_probes_once_and_keeps_the_others_verdicts() -> None:
    sc = load_source(Source("lost.yaml", LAB)).scenario
    lab = LiveLab({"a": _live("a"), "c": _live("c")}, LiveAddresses({"a": {}, "c": {}}))
    engines: dict[str, Any] = {"one": Engine("one"), "three": Engine("three")}
    verifier = Verifier(sc, engines, lab, workers=2)
    results = {r.name: r for r in verifier.run(resolve_all(sc, lab, list(sc.probes)))}
    assert {n: r.status for n, r in results.items()} == {
        "a-ok": "passed", "a-fails": "failed", "c-ok": "error", "c-again": "error"}
    assert results["c-ok"].actual == ("host three: docker exec over SSH: the SSH connection "
                                      "was lost before the host replied")
    # no retry against a host that is gone, whatever `within` allows
    assert engines["three"].calls == 1
    assert verifier.lost == {"three": "host 'three' (ssh://root@three.example) stopped "
                                      "answering: docker exec over SSH: the SSH connection "
                                      "was lost before the host replied"}
