"""What the tests of every probe type share: the captured outputs of the real tools, and
judging one of them with the probe type's check.

The outputs under tests/captured/ were captured from busybox 1.35 in containers and from
the Debian tools (iputils, bind9 nslookup, GNU traceroute, iproute2, GNU wget) in network
namespaces; see tests/captured/README.md. Each test pins the exact verdict: whether it
passed and the words a user reads in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dnetlab.probes.base import Resolved, Target, Verdict
from dnetlab.probes.registry import Probe, check

CAPTURED = Path(__file__).resolve().parents[2] / "captured"
FIXTURES = sorted(p.relative_to(CAPTURED).as_posix() for p in CAPTURED.glob("*/*.txt"))


def captured(name: str) -> tuple[int, str]:
    """A capture: "# exit N", "# $ COMMAND", then the output (stdout and stderr merged)."""
    first, command, *rest = (CAPTURED / name).read_text().split("\n")
    assert first.startswith("# exit ") and command.startswith("# $ "), name
    return int(first.split()[2]), "\n".join(rest).rstrip("\n")


def judge(probe: Probe, fixture: str, address: str | None = None,
          addresses_of: Mapping[str, frozenset[str]] | None = None) -> Verdict:
    code, output = captured(fixture)
    return check(Resolved(probe, "c1", "local", address, addresses_of or {}), code, output)


def judge_text(probe: Probe, output: str, exit_code: int = 0,
               address: str | None = None) -> Verdict:
    return check(Resolved(probe, "c1", "local", address), exit_code, output)


BASE: dict[str, Any] = {"name": "p", "within": 0.0, "index": 0, "name_given": False}


def target(text: str) -> Target:
    return Target(text, "address" if text[0].isdigit() else "hostname")
