"""Every probe type by its `type:` in the scenario file, and dispatch to its module.

A new probe type is one module in this package, one import line here and its entry in
`Probe` and `KINDS`, plus its part of the JSON Schema (a test checks that the schema and
this list name the same types).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dnetlab.probes.base import Command, ProbeKind, Resolved, Target, Verdict
from dnetlab.probes.dns import DNS, DnsProbe
from dnetlab.probes.exec import EXEC, ExecProbe
from dnetlab.probes.file import FILE, FileProbe
from dnetlab.probes.http import HTTP, HttpProbe
from dnetlab.probes.interfaces import INTERFACES, InterfacesProbe
from dnetlab.probes.ping import PING, PingProbe
from dnetlab.probes.routes import ROUTES, RoutesProbe
from dnetlab.probes.tcp import TCP, TcpProbe
from dnetlab.probes.traceroute import TRACEROUTE, TracerouteProbe

# A closed union rather than ProbeBase: each member's `type` is a Literal, so code that
# reads one type's fields narrows on it.
Probe = (
    PingProbe
    | DnsProbe
    | TcpProbe
    | HttpProbe
    | TracerouteProbe
    | InterfacesProbe
    | RoutesProbe
    | FileProbe
    | ExecProbe
)

KINDS: Mapping[str, ProbeKind[Any]] = {
    k.type_name: k
    for k in (PING, DNS, TCP, HTTP, TRACEROUTE, INTERFACES, ROUTES, FILE, EXEC)
}


def kind_named(type_name: object) -> ProbeKind[Any] | None:
    """The type a file's `type:` names; None when it names none (the schema said so)."""
    return KINDS.get(type_name) if isinstance(type_name, str) else None


def kind_of(p: Probe) -> ProbeKind[Any]:
    return KINDS[p.type]


def runs_on(p: Probe) -> str:
    return kind_of(p).runs_on(p)


def target_of(p: Probe) -> Target | None:
    return kind_of(p).target(p)


def same_as_of(p: Probe) -> str | None:
    """Where the probe's command also runs, for its check to compare (`same_as`)."""
    return kind_of(p).same_as(p)


def named_containers(p: Probe) -> tuple[str, ...]:
    return kind_of(p).named_containers(p)


def command_for(r: Resolved[Probe]) -> Command:
    """The probe's shell command. Pure."""
    return kind_of(r.probe).command(r)


def check(r: Resolved[Probe], exit_code: int, output: str) -> Verdict:
    """Judge one run of a probe: its exit code and output against the probe's fields (spec
    section 7). Pure; one try only (retrying within `within` is the runner's job)."""
    return kind_of(r.probe).check(r, exit_code, output)
