"""`traceroute`: the way from `from` to `to`: its number of `hops`, its `path`, a hop `via`.

`traceroute -n -q 1 -w 1 -m max_hops` (UDP datagrams; with `icmp: true`, `-I`: ICMP echo
requests, as the seed traces on the host network, which gets through filters that drop
UDP to high ports). `hops` counts the lines up to and including the
destination (same network: 1); a container key in `path` or `via` matches any of that
container's addresses. The destination must be reached, and a hop marked `!H` never
counts as reaching it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from ipaddress import ip_address
from shlex import quote
from typing import Any, Literal

from dnetlab.probes.base import (
    Command,
    Fields,
    Path,
    ProbeBase,
    ProbeKind,
    References,
    Resolved,
    Target,
    Verdict,
)
from dnetlab.probes.output import address, ip, lines
from dnetlab.probes.wording import plural


@dataclass(frozen=True)
class TracerouteProbe(ProbeBase):
    source: str
    target: Target
    max_hops: int = 10
    hops: int | None = None
    path: tuple[str, ...] | None = None
    via: str | None = None
    icmp: bool = False  # trace with ICMP echo (`-I`) rather than UDP
    type: Literal["traceroute"] = "traceroute"


def build(f: Fields) -> TracerouteProbe:
    v, p = f.raw, f.path
    max_hops = v.get("max_hops", 10)
    if "hops" in v and v["hops"] > max_hops:
        f.out.error((*p, "hops"), f"hops {v['hops']} is more than max_hops {max_hops}",
                    f"raise max_hops to at least {v['hops']}")
    return TracerouteProbe(**f.common, source=f.source, target=f.target,
                           max_hops=max_hops, hops=v.get("hops"),
                           path=tuple(v["path"]) if "path" in v else None,
                           via=v.get("via"), icmp=bool(v.get("icmp", False)))


def name(v: Mapping[str, Any], source: str | None, to: str | None) -> str:
    return f"traceroute {source} -> {to}"


def check_refs(p: TracerouteProbe, refs: References, path: Path) -> None:
    refs.container_ref(p.source, path, "from")
    refs.target_ref(p.source, p.target, path)
    for j, hop in enumerate(p.path or ()):
        refs.hop_ref(hop, (*path, "path", j))
    if p.via is not None:
        refs.hop_ref(p.via, (*path, "via"))


def named_containers(p: TracerouteProbe) -> tuple[str, ...]:
    # the check compares the hops with every address of a container named here
    return (*(p.path or ()), *((p.via,) if p.via else ()))


def command(r: Resolved[TracerouteProbe]) -> Command:
    icmp = "-I " if r.probe.icmp else ""
    return Command(f"traceroute {icmp}-n -q 1 -w 1 -m {r.probe.max_hops} "
                   f"{quote(r.address or '')}", ("traceroute",),
                   # two at once from one container take each other's replies
                   one_at_a_time=True)


# ---- its output ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hop:
    ttl: int
    address: str | None  # None: no answer ("*")
    note: str | None = None  # an ICMP error flag such as "!H": the probe did not get through

    def __str__(self) -> str:
        text = self.address or "*"
        return f"{text} {self.note}" if self.note else text


@dataclass(frozen=True)
class Trace:
    destination: str | None  # the address traceroute aimed at (from its header)
    hops: tuple[Hop, ...]
    error: str | None = None  # why it did not run: "bad address 'x'"

    @property
    def reached_at(self) -> int | None:
        """The number of hops up to and including the destination; None: not reached."""
        for n, hop in enumerate(self.hops, 1):
            if hop.address is not None and hop.address == self.destination and not hop.note:
                return n
        return None


_TRACE_HEADER = re.compile(r"^traceroute6? to (\S+) \(([^)]+)\)")
_TRACE_HOP = re.compile(r"^\s*(\d+)\s+(.*)$")


def parse_traceroute(text: str) -> Trace:
    """`traceroute -n -q 1`: " 1  10.201.0.11  0.050 ms", " 2  *", " 4  10.0.0.1  3.1 ms !H"
    after the header "traceroute to X (X), 10 hops max, 46 byte packets"."""
    destination: str | None = None
    hops: list[Hop] = []
    other: list[str] = []
    for line in lines(text):
        m = _TRACE_HEADER.match(line)
        if m:
            destination = address(m.group(2)) or address(m.group(1))
            continue
        m = _TRACE_HOP.match(line)
        if not m:
            if line.strip():
                other.append(line.strip())
            continue
        hop_address: str | None = None
        note: str | None = None
        for word in m.group(2).replace("(", " ").replace(")", " ").split():
            if hop_address is None:
                hop_address = address(word)
            if word.startswith("!") and note is None:
                note = word
        hops.append(Hop(int(m.group(1)), hop_address, note))
    error = None
    if not hops:
        error = other[0] if other else "no output"
        if error.startswith("traceroute: "):
            error = error[len("traceroute: "):]
    return Trace(destination, tuple(hops), error)


def _hop_matches(hop: Hop, want: str, r: Resolved[TracerouteProbe]) -> bool:
    if hop.address is None:
        return False
    if want in r.addresses_of:
        return hop.address in {str(ip_address(a)) for a in r.addresses_of[want] if ip(a)}
    wanted = ip(want)
    return wanted is not None and str(wanted) == hop.address


def check(r: Resolved[TracerouteProbe], exit_code: int, output: str) -> Verdict:
    p = r.probe
    trace: Trace = parse_traceroute(output)
    if trace.destination is None and r.address and ip(r.address):
        trace = replace(trace, destination=str(ip_address(r.address)))
    dest = trace.destination or r.address or p.target.text
    parts = []
    if p.hops is not None:
        parts.append(plural(p.hops, "hop"))
    if p.path is not None:
        parts.append("path " + " ".join(p.path))
    if p.via is not None:
        parts.append(f"via {p.via}")
    expected = ", ".join(parts) or f"reaches {dest}"
    n = trace.reached_at
    if not trace.hops:
        return Verdict(False, expected, f"no trace: {trace.error}")
    if n is None:
        hops = " ".join(str(h) for h in trace.hops)
        return Verdict(False, expected,
                       f"{dest} not reached in {plural(len(trace.hops), 'hop')}: {hops}")
    taken = trace.hops[:n]
    actual = f"{plural(n, 'hop')}: {' '.join(str(h) for h in taken)}"
    passed = True
    if p.hops is not None and n != p.hops:
        passed = False
    if p.path is not None and (len(p.path) != n or not all(
            _hop_matches(h, want, r) for h, want in zip(taken, p.path, strict=False))):
        passed = False
    if p.via is not None and not any(_hop_matches(h, p.via, r) for h in taken):
        passed = False
    return Verdict(passed, expected, actual)


TRACEROUTE = ProbeKind(
    type_name="traceroute", probe=TracerouteProbe, build=build, name=name,
    check_refs=check_refs, runs_on=lambda p: p.source, target=lambda p: p.target,
    named_containers=named_containers, command=command, check=check)
