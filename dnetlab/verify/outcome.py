"""What verify works on and produces: resolved probes in, results out. Pure data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from dnetlab.model import Probe

Status = Literal["passed", "failed", "error"]


@dataclass(frozen=True)
class Resolved:
    """A probe made concrete against the live lab: where it runs and what it targets."""

    probe: Probe
    runs_on: str  # a container key, or "host:<host-key>"
    host: str  # the host key where it runs
    address: str | None = None  # `to` resolved: an IP, or a hostname resolved in the container
    # container key -> every address it has: `path`/`via` of a traceroute may name containers
    addresses_of: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.probe.name


@dataclass(frozen=True)
class Command:
    """A POSIX sh snippet whose output and exit code the probe's checker reads."""

    script: str
    tools: tuple[str, ...] = ()  # programs it needs; missing ones send it to a helper
    needs_target: bool = False  # reads the container's own filesystem or runs its command


@dataclass(frozen=True)
class Verdict:
    passed: bool
    expected: str  # in words: "reachable, at most 0% loss"
    actual: str  # in words: "3 of 3 replies, 0% loss"


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

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return all(r.status == "passed" for r in self.results)
