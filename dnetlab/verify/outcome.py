"""What verify produces: a result per probe, and the report. Pure data.

(What it works on, `Resolved`, with a probe type's `Command` and `Verdict`, is in
`dnetlab.probes.base`: the probe types build and read them.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["passed", "failed", "error"]


@dataclass(frozen=True)
class ProbeResult:
    name: str
    type: str
    status: Status
    expected: str
    actual: str
    output: str  # the raw command output
    duration_s: float
    runs_on: str
    attempts: int = 1


@dataclass(frozen=True)
class Report:
    scenario: str
    results: tuple[ProbeResult, ...]
    duration_s: float
    # why a host's engine stopped answering during the run (its probes are errors): the
    # environment failed, so the run says nothing about the lab there
    unreachable: tuple[str, ...] = ()

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return all(r.status == "passed" for r in self.results)
