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
    # in a step: seconds from the end of its actions to the start of the try that passed,
    # when the first try failed (None when it held at once, or never)
    recovered_after_s: float | None = None
    # verify --capture-failed: the pcap taken in its source container while it was tried
    # once more
    capture: str | None = None


ActionStatus = Literal["done", "failed", "not run"]


@dataclass(frozen=True)
class ActionResult:
    kind: str  # the action's kind: disconnect, connect, pause, ...
    description: str  # Action.describe()
    status: ActionStatus
    message: str  # why it failed (the engine's words), or what it did
    duration_s: float


@dataclass(frozen=True)
class StepResult:
    name: str
    actions: tuple[ActionResult, ...]
    results: tuple[ProbeResult, ...]
    duration_s: float

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return (all(a.status == "done" for a in self.actions)
                and all(r.status == "passed" for r in self.results))


@dataclass(frozen=True)
class Report:
    scenario: str
    results: tuple[ProbeResult, ...]
    duration_s: float
    # why a host's engine stopped answering during the run (its probes are errors): the
    # environment failed, so the run says nothing about the lab there
    unreachable: tuple[str, ...] = ()
    steps: tuple[StepResult, ...] = ()  # verify --steps
    # verify --steps: how the lab was brought back to its declared state afterwards
    restored: str | None = None

    def count(self, status: Status) -> int:
        """Probes with that status, the steps' included."""
        return (sum(1 for r in self.results if r.status == status)
                + sum(s.count(status) for s in self.steps))

    @property
    def ok(self) -> bool:
        return all(r.status == "passed" for r in self.results) and all(
            s.ok for s in self.steps)
